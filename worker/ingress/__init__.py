"""Stage 1: inbound stream entries → validated events → stored messages → drafting tasks."""

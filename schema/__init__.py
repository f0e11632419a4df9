"""What arrives and what leaves: the pydantic shapes of the outside contract (CONTRACT.md)."""

"""Pure text helpers shared by the knowledge base and the store: chunking a document and the
search terms and snippets of a query. No IO."""

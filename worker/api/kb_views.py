"""The JSON shapes of the knowledge base (camelCase, as the front end speaks), shared by the
HTTP API and the CLI's JSON output."""

from __future__ import annotations

from typing import Any

from worker.knowledge.views import AudienceCount, DocumentView, FolderNode


def document_json(view: DocumentView) -> dict[str, Any]:
    data = {
        "id": view.id, "folder": view.folder, "filename": view.filename, "path": view.path,
        "kind": view.kind, "sizeBytes": view.size_bytes, "sha256": view.sha256,
        "status": view.status, "error": view.error, "chunkCount": view.chunk_count,
        "createdAt": view.created_at.isoformat(), "updatedAt": view.updated_at.isoformat(),
        "processedAt": view.processed_at.isoformat() if view.processed_at else None,
    }
    if view.segmentation is not None:
        data["segmentation"] = view.segmentation.to_json()
        data["audience"] = "everyone" if view.segmentation.is_everyone else "segmented"
    return data


def audience_json(count: AudienceCount) -> dict[str, Any]:
    return {"everyone": count.everyone, "segments": count.segments, "userIds": count.user_ids}


def tree_json(root: FolderNode) -> dict[str, Any]:
    """Built without recursion (the tree's depth is bounded, but a stack is not needed)."""
    out: dict[str, Any] = {}
    stack = [(root, out)]
    while stack:
        node, target = stack.pop()
        target.update(name=node.name, path=node.path, documents=node.documents, folders=[])
        for child in node.folders:
            slot: dict[str, Any] = {}
            target["folders"].append(slot)
            stack.append((child, slot))
    return out

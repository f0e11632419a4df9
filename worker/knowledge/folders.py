"""The knowledge base's folder use cases (mkdir -p, rmdir -r, mv, list, tree), as the CLI and
the HTTP API call them. Each runs in one transaction and raises a KnowledgeError with the HTTP
status to answer. Paths are bounded in length and depth (worker/knowledge/paths.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from worker.knowledge.errors import Conflict, InvalidInput, NotFound
from worker.knowledge.library import hand_over, require_client
from worker.knowledge.paths import MAX_FOLDER_DEPTH, MAX_PATH_CHARS, depth, normalize_folder
from worker.knowledge.ports import DocumentQueue
from worker.knowledge.views import FolderNode
from worker.store import kb_folders


def create_folder(sessions: sessionmaker[Session], client_id: str, path: str) -> str:
    """Create the folder and any missing parents; Conflict if it exists already."""
    path = normalize_folder(path)
    if not path:
        raise InvalidInput("the root folder always exists")
    with sessions.begin() as session:
        require_client(session, client_id)
        if kb_folders.folder_exists(session, client_id, path):
            raise Conflict(f"folder {path!r} exists already")
        kb_folders.ensure_folder(session, client_id, path)
    return path


def delete_folder(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, path: str
) -> int:
    """Delete the folder, its subfolders and all their documents; returns how many documents."""
    path = normalize_folder(path)
    if not path:
        raise InvalidInput("the root folder cannot be deleted")
    with sessions.begin() as session:
        if not kb_folders.folder_exists(session, client_id, path):
            raise NotFound(f"no folder {path!r}")
        count = kb_folders.delete_folder(session, client_id, path)
    if count:
        hand_over(queue.purge, client_id)
    return count


def rename_folder(sessions: sessionmaker[Session], client_id: str, old: str, new: str) -> str:
    """Rename or move a folder with everything in it; documents keep their ids. The moved
    subtree must stay within the depth and length bounds."""
    old, new = normalize_folder(old), normalize_folder(new)
    if not old or not new:
        raise InvalidInput("the root folder cannot be renamed, nor anything renamed to it")
    if new == old or new.startswith(old + "/"):
        raise InvalidInput(f"cannot move folder {old!r} into itself ({new!r})")
    with sessions.begin() as session:
        if not kb_folders.folder_exists(session, client_id, old):
            raise NotFound(f"no folder {old!r}")
        if kb_folders.folder_exists(session, client_id, new):
            raise Conflict(f"folder {new!r} exists already")
        deepest, longest = kb_folders.subtree_extent(session, client_id, old)
        if depth(new) + deepest - depth(old) > MAX_FOLDER_DEPTH:
            raise InvalidInput(f"moved there, its subfolders would be more than "
                               f"{MAX_FOLDER_DEPTH} levels deep")
        if len(new) + longest - len(old) > MAX_PATH_CHARS:
            raise InvalidInput(f"moved there, a subfolder's path would be longer than "
                               f"{MAX_PATH_CHARS} characters")
        kb_folders.rename_folder(session, client_id, old, new)
    return new


def list_folders(sessions: sessionmaker[Session], client_id: str) -> list[str]:
    with sessions() as session:
        return kb_folders.list_folders(session, client_id)


def folder_tree(sessions: sessionmaker[Session], client_id: str) -> FolderNode:
    """The folders from the root, with the documents directly in each. Built by a loop, not
    recursion; a folder deeper than MAX_FOLDER_DEPTH (made before the bound existed) is left
    out of the tree (`list_folders` still names it)."""
    with sessions() as session:
        paths = kb_folders.list_folders(session, client_id)
        counts = kb_folders.document_counts(session, client_id)
    root = FolderNode(name="", path="", documents=counts.get("", 0), folders=[])
    nodes = {"": root}
    for path in paths:  # sorted, so a parent comes before its children
        if depth(path) > MAX_FOLDER_DEPTH:
            continue
        parent, _, name = path.rpartition("/")
        node = FolderNode(name=name, path=path, documents=counts.get(path, 0), folders=[])
        nodes.get(parent, root).folders.append(node)
        nodes[path] = node
    return root

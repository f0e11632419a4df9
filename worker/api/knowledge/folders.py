"""Folder endpoints: list, tree, create, rename/move, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from worker.api.auth import client_id, runtime
from worker.api.kb_views import tree_json
from worker.api.knowledge.common import (
    NO_NUL, NOT_FOUND, PREFIX, REFUSED, TAGS, documents_queue, refusals,
)
from worker.api.schemas import FolderDeleted, FolderIn, FolderList, FolderNode, FolderOut, FolderRename
from worker.api.strict_json import StrictJSONRoute
from worker.knowledge import folders
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.bootstrap import Runtime

router = APIRouter(prefix=PREFIX, tags=TAGS, route_class=StrictJSONRoute)


@router.get("/folders", response_model=FolderList)
def list_folders(client: str = Depends(client_id), rt: Runtime = Depends(runtime)) -> FolderList:
    """Every folder path of the client (the root, '', is implied)."""
    return FolderList(folders=folders.list_folders(rt.sessions, client))


@router.get("/folders/tree", response_model=FolderNode)
def folder_tree(
    client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> JSONResponse:
    """The folders from the root, with the number of documents directly in each."""
    return JSONResponse(tree_json(folders.folder_tree(rt.sessions, client)))


@router.post("/folders", response_model=FolderOut, status_code=201,
             responses={**REFUSED, 409: {"description": "the folder exists already"}})
def create_folder(
    body: FolderIn, client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> FolderOut:
    """Create a folder and its missing parents."""
    with refusals():
        return FolderOut(path=folders.create_folder(rt.sessions, client, body.path))


@router.patch("/folders", response_model=FolderOut,
              responses={**REFUSED, **NOT_FOUND, 409: {"description": "newPath exists"}})
def rename_folder(
    body: FolderRename, client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> FolderOut:
    """Rename or move a folder with everything in it; documents keep their ids."""
    with refusals():
        path = folders.rename_folder(rt.sessions, client, body.path, body.newPath)
    log.info("kb.folder.renamed", client_id=client, path=body.path, new_path=path)
    return FolderOut(path=path)


@router.delete("/folders", response_model=FolderDeleted, responses={**REFUSED, **NOT_FOUND})
def delete_folder(
    path: str = Query(min_length=1, max_length=1000, pattern=NO_NUL),
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> FolderDeleted:
    """Delete a folder with its subfolders and every document in them."""
    with refusals():
        count = folders.delete_folder(rt.sessions, queue, client, path)
    log.info("kb.folder.deleted", client_id=client, path=path, documents=count)
    return FolderDeleted(path=path, deletedDocuments=count)

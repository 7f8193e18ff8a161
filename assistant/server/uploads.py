"""Files added to the live index from the library page: each checked (name, type, size),
staged under ``<data_dir>/uploads/.incoming/<job>``, then ingested by one worker thread,
one file at a time (one ingest at a time; answers go on meanwhile), with each file's
state kept for the page to follow.

An indexed file is kept as ``<data_dir>/uploads/<name>`` and its document id is its name,
as ``assistant ingest <data_dir>/uploads`` would name it: uploading a file of the same name
again replaces it, and the command line can ingest the folder again (with ``--prune``, list
it beside the corpus or its documents are dropped). A name (a file's, or a record's id)
held by a document that did not come from the uploads folder, the corpus's say, is
refused: an upload never replaces an article it did not add. A file that is not indexed leaves
nothing behind: ingestion writes a document whole or not at all, the file is deleted and
an earlier file of its name put back. The store's lexical index is updated in place by
the ingest, so retrieval finds an uploaded document at once."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, Literal

from assistant.server.public import hide_paths
from ingest.errors import ReadError
from ingest.pipeline import IngestReport, ingest_paths
from ingest.readers import reader_for, supported_suffixes

if TYPE_CHECKING:
    from assistant.service import Assistant

logger = logging.getLogger(__name__)

FileState = Literal["queued", "ingesting", "done", "failed"]
# added: a new document; replaced: a new version of a document of the same name;
# already_indexed: its text was in the index already (unchanged, or under another name).
Outcome = Literal["added", "replaced", "already_indexed"]
MAX_JOBS = 100  # finished uploads whose results are kept for the page to read
STAGING = ".incoming"  # ingest skips dot-folders, so `assistant ingest uploads/` does too
PREVIOUS = ".previous"  # in a job's staging folder: the earlier files of the names it replaces
WORKER_NAME = "upload-ingest"  # the worker thread's name
MAX_NAME_BYTES = 255  # the longest file name most file systems take


@dataclass
class IncomingFile:
    """A file as the request brought it: the name its sender gave it, and its bytes."""

    name: str
    size: int
    content: BinaryIO


@dataclass(frozen=True)
class Problem:
    """Why a file, or one of its records, was not indexed: ``code`` names its wording in
    the page's catalogue (``upload_problem_<code>``), ``details`` fill its placeholders.
    A reader's own reason (a bad JSON line, say) comes as the ``reason`` detail, in English."""

    code: str
    details: dict[str, str] = field(default_factory=dict)

    def worded(self, text: dict[str, str]) -> str:
        """The problem in the language of the catalogue ``text``."""
        return text[f"upload_problem_{self.code}"].format(**self.details)


@dataclass
class FileUpload:
    """One file of an upload and what became of it; ``problems`` say why it failed, or
    which of its records (of a JSON Lines file, say) were left out."""

    name: str
    state: FileState = "queued"
    outcome: Outcome | None = None
    documents: list[str] = field(default_factory=list)  # the ids it is indexed under
    chunks: int = 0
    problems: list[Problem] = field(default_factory=list)

    def fail(self, *problems: Problem) -> None:
        """Marks the file failed, for ``problems``."""
        self.problems = list(problems)
        self.state = "failed"  # last: the page may read the file meanwhile


@dataclass
class UploadJob:
    """The files of one upload, in the order sent."""

    job_id: str
    files: list[FileUpload]

    @property
    def finished(self) -> bool:
        """Whether every file is done or failed."""
        return all(upload.state in ("done", "failed") for upload in self.files)


def upload_name(sent: str) -> str:
    """The name a sent file is stored and indexed under: its last path part (a browser may
    send a path, with either slash), without surrounding spaces."""
    return PurePosixPath(sent.replace("\\", "/")).name.strip()


class Uploads:
    """The uploads of one server (see the module docstring)."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        settings = assistant.settings
        self.folder = settings.data_dir / "uploads"
        self.max_bytes = settings.server.max_upload_bytes
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WORKER_NAME)
        self._jobs: dict[str, UploadJob] = {}
        self._lock = threading.Lock()  # guards _jobs
        self._recover()

    def _recover(self) -> None:
        """Undoes what a server stopped mid-upload left behind: puts back each earlier file
        set aside whose name has no file (the new one was not in place yet, or was taken
        away), and deletes the staging folders."""
        staging = self.folder / STAGING
        if not staging.is_dir():
            return
        for previous in staging.glob(f"*/{PREVIOUS}/*"):
            target = self.folder / previous.name
            if not target.exists():
                logger.warning("Putting back %s, left aside by an interrupted upload", target)
                os.replace(previous, target)
        for leftover in staging.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)

    def job(self, job_id: str) -> UploadJob | None:
        """The upload ``job_id``; None when unknown or forgotten (``MAX_JOBS``)."""
        with self._lock:
            return self._jobs.get(job_id)

    def submit(self, files: list[IncomingFile]) -> UploadJob:
        """Checks each file and stages those that pass, then queues them for ingestion;
        the files refused are failed at once. Writes to disk: call it from a thread."""
        job = UploadJob(uuid.uuid4().hex, [])
        staging = self.folder / STAGING / job.job_id
        staged: list[tuple[FileUpload, Path]] = []
        for incoming in files:
            name = upload_name(incoming.name)
            upload = FileUpload(name or incoming.name)
            job.files.append(upload)
            taken = {u.name for u, _ in staged}
            if refusal := self._refusal(name, incoming.size, taken):
                upload.fail(refusal)
                continue
            try:
                staging.mkdir(parents=True, exist_ok=True)
                with (staging / name).open("wb") as out:
                    shutil.copyfileobj(incoming.content, out)
            except OSError as error:  # a full disk, say: this file only
                logger.exception("Upload %r could not be staged", name)
                (staging / name).unlink(missing_ok=True)
                reason = hide_paths(error.strerror or str(error))
                upload.fail(Problem("not_stored", {"reason": reason}))
                continue
            staged.append((upload, staging / name))
        with self._lock:
            self._jobs[job.job_id] = job
            finished = [old for old, kept in self._jobs.items() if kept.finished]
            for old in finished[: max(0, len(self._jobs) - MAX_JOBS)]:
                del self._jobs[old]
        if staged:
            self._worker.submit(self._ingest_all, staged, staging)
        else:
            shutil.rmtree(staging, ignore_errors=True)
        return job

    def _refusal(self, name: str, size: int, taken: set[str]) -> Problem | None:
        """Why a file is not even tried, None when it is."""
        if not name or name.startswith(".") or any(unicodedata.category(c)[0] == "C" for c in name):
            return Problem("bad_name")
        if len(name.encode()) > MAX_NAME_BYTES:
            return Problem("name_too_long", {"bytes": str(MAX_NAME_BYTES)})
        if name in taken:
            return Problem("same_name")
        if size > self.max_bytes:
            limit = f"{self.max_bytes / 1e6:.1f}"
            return Problem("too_big", {"size": f"{size / 1e6:.1f}", "limit": limit})
        if size == 0:
            return Problem("empty")
        try:
            reader_for(name)
        except ReadError:
            return Problem("unsupported", {"types": ", ".join(sorted(supported_suffixes()))})
        return None

    def _ingest_all(self, staged: list[tuple[FileUpload, Path]], staging: Path) -> None:
        try:
            for upload, path in staged:
                upload.state = "ingesting"
                try:
                    self._ingest(upload, path, staging)
                except Exception as error:  # one file's failure must not strand the others
                    logger.exception("Upload %r failed", upload.name)
                    upload.fail(Problem("not_indexed", {"reason": hide_paths(str(error))}))
                self.assistant.library.forget()
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _ingest(self, upload: FileUpload, staged: Path, staging: Path) -> None:
        """Puts the staged file in place, the earlier one of its name aside, and ingests it;
        puts the earlier one back when it is not indexed."""
        # Sent names never start with a dot (_refusal): PREVIOUS is no sent file's.
        target, previous = self.folder / upload.name, staging / PREVIOUS / upload.name
        if target.exists():
            previous.parent.mkdir(exist_ok=True)
            os.replace(target, previous)
        os.replace(staged, target)
        assistant = self.assistant
        try:
            report = ingest_paths(
                [target],
                assistant.settings,
                embedder=assistant.embedder,
                store=assistant.store,
                detector=assistant.detector,
                progress=False,
                own_folder=self.folder,
                rebuild=False,  # never wipe the index for an upload
                wait=True,  # for an `assistant ingest` on the same index: this is a worker
            )
        except BaseException:
            self._put_back(target, previous)
            raise
        settle(upload, report, target)
        if upload.state == "failed":
            self._put_back(target, previous)

    @staticmethod
    def _put_back(target: Path, previous: Path) -> None:
        target.unlink(missing_ok=True)
        if previous.exists():
            os.replace(previous, target)


def settle(upload: FileUpload, report: IngestReport, path: Path) -> None:
    """``upload``'s state, outcome, documents and problems from the report of ingesting
    it alone, from ``path``; a problem names a record by the file's name, not the path."""
    problems = [
        Problem("not_indexed", {"reason": hide_paths(_named(where, why, path, upload.name))})
        for where, why in report.failed
    ] + [Problem("not_uploaded_here", {"doc_id": doc_id}) for _, doc_id in report.foreign]
    skipped = [name for name, _ in report.skipped]
    if not (report.new or report.changed or skipped):
        upload.fail(*(problems or [Problem("no_document")]))
        return
    upload.documents = [*report.new, *report.changed, *skipped]
    upload.chunks, upload.problems = report.chunks, problems
    upload.outcome = "added" if report.new else "replaced" if report.changed else "already_indexed"
    upload.state = "done"  # last: the page may read the file meanwhile


def _named(where: str, why: str, path: Path, name: str) -> str:
    """A failure of the file at ``path`` as ``why``; of one of its records, as ``why`` after
    the record's place, the file named ``name``."""
    return why if where == str(path) else f"{where.replace(str(path), name)}: {why}"

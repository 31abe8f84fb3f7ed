"""Gathers a kernel's output messages for one execution into an `ExecutionResult`."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from sandbox.bridge.record import Redactor
from sandbox.results import ExecutionError, ExecutionResult, RichOutput, clean_text, cut_notice
from sandbox.text import clip

# Past this many characters per stream, output is dropped even from the record: a runaway print
# loop must not exhaust the host's memory.
KEPT_CHARS = 16_000_000
# The largest image kept from one display (decoded); a larger one is told about, not written.
MAX_IMAGE_BYTES = 16 * 1024**2
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
TEXT_TYPES = ("image/svg+xml", "text/html", "text/markdown", "application/json", "text/latex")


class _Stream:
    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        room = KEPT_CHARS - self.kept
        if room > 0:
            self.chunks.append(text[:room])
            self.kept += min(len(text), room)
        self.dropped += max(0, len(text) - max(room, 0))

    def text(self) -> str:
        text = "".join(self.chunks)
        if self.dropped:
            text += f"\n[... {self.dropped:,} more characters were not kept: output limit of {KEPT_CHARS:,}]"
        return text


class OutputCollector:
    """Accepts iopub messages of one execution; `finish()` returns the result, trimmed and redacted."""

    def __init__(
        self,
        output_dir: Path,
        file_prefix: str,
        max_chars: int,
        redactor: Redactor,
        budget: int | None = None,
    ) -> None:
        """`budget`: bytes of images it may still write (None: as many as the outputs' filesystem takes);
        `written` counts what it wrote."""
        self.output_dir = output_dir
        self.budget = budget
        self.written = 0
        self.file_prefix = file_prefix
        self.max_chars = max_chars
        self.redactor = redactor
        self.streams = {"stdout": _Stream(), "stderr": _Stream()}
        self.result_text: str | None = None
        self.outputs: list[RichOutput] = []
        self.error: ExecutionError | None = None
        self.execution_count: int | None = None

    def add(self, message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            self.streams.get(content["name"], self.streams["stderr"]).write(content["text"])
        elif kind == "execute_result":
            self.execution_count = content.get("execution_count")
            data = content.get("data", {})
            self.result_text = data.get("text/plain")
            if any(mime in data for mime in (*IMAGE_TYPES, *TEXT_TYPES)):
                self.outputs.append(self._rich(data))
        elif kind == "display_data":
            self.outputs.append(self._rich(content.get("data", {})))
        elif kind == "error":
            self.error = ExecutionError(
                name=content.get("ename", "Error"),
                message=self._clean(content.get("evalue", "")),
                traceback=self._clean("\n".join(content.get("traceback", []))),
            )
        elif kind == "execute_input":
            self.execution_count = content.get("execution_count")

    def finish(self) -> ExecutionResult:
        full_stdout = self._clean(self.streams["stdout"].text())
        full_stderr = self._clean(self.streams["stderr"].text())
        full_result = None if self.result_text is None else self._clean(self.result_text)
        result = ExecutionResult(
            stdout=self._trim(full_stdout),
            stderr=self._trim(full_stderr),
            result=None if full_result is None else self._trim(full_result),
            outputs=self.outputs,
            error=self.error,
            execution_count=self.execution_count,
            full_stdout=full_stdout,
            full_stderr=full_stderr,
            full_result=full_result,
        )
        result.truncated = (result.stdout, result.stderr, result.result) != (
            full_stdout,
            full_stderr,
            full_result,
        )
        return result

    def _trim(self, text: str) -> str:
        """`text` as the model sees it: cut in the middle to the output limit."""
        return clip(text, self.max_chars, cut="middle", marker=cut_notice)

    def _clean(self, text: str) -> str:
        return self.redactor.text(clean_text(text))

    def _rich(self, data: dict[str, Any]) -> RichOutput:
        for mime, extension in IMAGE_TYPES.items():
            if mime in data:
                return self._image(mime, extension, data)
        for mime in TEXT_TYPES:
            if mime in data:
                value = data[mime]
                text = value if isinstance(value, str) else json.dumps(value, indent=1)
                return RichOutput(mime=mime, text=self._trim(self._clean(text)))
        return RichOutput(mime="text/plain", text=self._trim(self._clean(data.get("text/plain", ""))))

    def _image(self, mime: str, extension: str, data: dict[str, Any]) -> RichOutput:
        """An image saved for the record, unless it is too big (measured before anything is decoded or
        written) or the outputs' bounded space is full: then the text says it was not kept."""
        encoded = data[mime]
        text = self._clean(data.get("text/plain", ""))
        size = len(encoded) * 3 // 4
        if size > MAX_IMAGE_BYTES:
            return RichOutput(
                mime=mime,
                text=f"{text} [an image of {size / 2**20:,.0f} MiB was not kept: "
                f"images are kept up to {MAX_IMAGE_BYTES // 2**20} MiB]",
            )
        if self.budget is not None and self.written + size > self.budget:
            return RichOutput(
                mime=mime,
                text=f"{text} [an image of {size / 2**20:,.1f} MiB was not kept: the session keeps "
                "no more images than its disk quota]",
            )
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"{self.file_prefix}-{len(self.outputs) + 1}.{extension}"
        try:
            path.write_bytes(base64.b64decode(encoded))
        except OSError as exc:
            path.unlink(missing_ok=True)
            return RichOutput(mime=mime, text=f"{text} [the image was not kept: {exc.strerror}]")
        self.written += size
        return RichOutput(mime=mime, text=text, path=path)

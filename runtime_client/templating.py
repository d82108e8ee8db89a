"""`--format` for every berth command: Go templates (`runtime_client.gotemplate`) with what
each kind of output needs from Docker: the typed fields of inspect documents, the column
titles and context type of listings, and the docker CLI's error wording and exit statuses.

Inspect documents (`container inspect`, `image inspect`, `network inspect`): a template that
cannot be parsed exits 64 and one that fails on the data exits 1, both as
`template parsing error: ...`. Listings (`ps`, `images`, `network ls`, ...) accept `table`;
their errors are `template parsing error: ...` and `failed to execute template: ...`
(exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runtime_client.errors import TemplateFormatError
from runtime_client.gotemplate import (
    Schema,
    TemplateExecError,
    TemplateParseError,
    compile_template,
    format_rows,
)

__all__ = ["INSPECT", "render", "render_documents", "render_rows"]

# Fields of Docker's inspect structures that its typed templates print as zero values when
# the JSON has null or leaves them out (omitempty).
INSPECT = Schema(
    slices=frozenset({
        "Args", "Binds", "CapAdd", "CapDrop", "Cmd", "DeviceCgroupRules", "Devices", "Dns",
        "DnsOptions", "DnsSearch", "Entrypoint", "Env", "ExecIDs", "ExtraHosts", "GroupAdd",
        "Layers", "Links", "Mounts", "OnBuild", "RepoDigests", "RepoTags", "SecurityOpt",
        "Shell", "Ulimits", "Aliases", "Config",
    }),
    maps=frozenset({
        "Containers", "DriverOpts", "ExposedPorts", "Labels", "Networks", "Options",
        "PortBindings", "Ports", "StorageOpt", "Sysctls", "Tmpfs", "Volumes",
    }),
    strings=frozenset({"MacAddress", "StopSignal", "Domainname"}),
    pointers=frozenset({"StopTimeout", "Healthcheck", "IPAMConfig"}),
)


def render_documents(template: str, documents: Iterable[Any]) -> str:
    """Each inspect document through `template`, one per line.

    Raises:
        TemplateFormatError: exit 64 when it cannot be parsed, 1 when it fails on a document.
    """
    try:
        parsed = compile_template(template)
    except TemplateParseError as exc:
        raise TemplateFormatError(f"template parsing error: {exc}", 64) from None
    try:
        return "".join(parsed.render(doc, INSPECT) + "\n" for doc in documents)
    except TemplateExecError as exc:
        raise TemplateFormatError(f"template parsing error: {exc}", 1) from None


def render_rows(template: str, rows: Iterable[Mapping[str, Any]],
                headers: Mapping[str, str] | None = None, context: str = "",
                exec_prefix: str = "failed to execute template") -> str:
    """Listing rows through `template` (`table ...` adds titles from `headers`).

    Args:
        template: the --format value.
        rows: one mapping of Docker's field names per row.
        headers: column titles by field name (others are the name in capitals).
        context: Docker's row type named in its "can't evaluate field" error.
        exec_prefix: how the docker CLI introduces an execution error for this listing
            (`images` says "template parsing error", `ps` "failed to execute template").

    Raises:
        TemplateFormatError: the docker CLI's wording, exit 1.
    """
    try:
        return format_rows(template, rows, headers or {}, Schema(context=context))
    except TemplateParseError as exc:
        raise TemplateFormatError(f"template parsing error: {exc}", 1) from None
    except TemplateExecError as exc:
        raise TemplateFormatError(f"{exec_prefix}: {exc}", 1) from None


def render(template: str, data: Mapping[str, Any]) -> str:
    """One row or document through `template`, without its newline."""
    return render_rows(template, [data]).removesuffix("\n")

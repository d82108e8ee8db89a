"""The `image` command group and its short forms (`berth pull`, `berth images`, `berth rmi`)."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="image",
    help="Manage images",
    verbs=(
        Verb("pull", "pull", "Download an image from a registry", shortcuts=("pull",)),
        Verb("push", "push", "Upload an image to a registry", shortcuts=("push",)),
        Verb("ls", "images", "List images", aliases=("list",), shortcuts=("images",)),
        Verb("history", "history", "Show the history of an image", shortcuts=("history",)),
        Verb("inspect", "image_inspect", "Display detailed information on one or more images"),
        Verb("tag", "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
             shortcuts=("tag",)),
        Verb("rm", "rmi", "Remove one or more images", aliases=("remove",), shortcuts=("rmi",)),
        Verb("prune", "image_prune", "Remove unused images"),
        Verb("save", "save", "Save one or more images to a tar archive", shortcuts=("save",)),
        Verb("load", "load", "Load an image from a tar archive or STDIN", shortcuts=("load",)),
        Verb("import", "import_image", "Import the contents from a tarball to create an image",
             shortcuts=("import",)),
    ),
)

"""Where the container half of berth keeps its state under the berth root (pure path functions).

```
<root>/                              --root, default /var/lib/berth
  snapshots/
    <name-or-key>/                   a committed layer or a container's writable layer
      info.json                      kind (committed|active), parent name
      fs/                            the layer's files; overlay whiteouts (char 0:0, opaque xattr)
      work/                          overlayfs workdir (active snapshots only)
  containers/
    <id>/
      container.json                 the container record (state machine, options, network)
      bundle/config.json             OCI runtime spec; bundle/rootfs is the overlay mount point
      ctr.log                        conmon k8s-file log (stdout/stderr lines)
      exits/<id>                     conmon writes the exit status here
      hosts, resolv.conf, hostname   bind-mounted into the container
      conmon.pid
  volumes/<name>/
    _data/                           a volume's files (named or anonymous, local driver)
    volume.json                      its created-at, labels and driver options
  networks/<name>.json               user-defined networks (bridge/host/none are built in)
  netavark/                          netavark's --config dir (aardvark-dns state)
  locks/                             flock files (network allocation, name index, volumes)
<run>/                               runtime state on tmpfs: runc --root, conmon attach sockets
```

Nothing here touches the filesystem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/var/lib/berth")


@dataclass(frozen=True)
class Layout:
    """Paths under one berth root; `run` is the tmpfs-backed runtime directory."""

    root: Path

    @property
    def run(self) -> Path:
        # runc state and attach sockets must have short paths (sun_path is 108 bytes), so they
        # live under /run keyed by a hash of the root rather than under the root itself.
        tag = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
        return Path("/run/berth") / tag

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def networks(self) -> Path:
        return self.root / "networks"

    @property
    def netavark_config(self) -> Path:
        return self.root / "netavark"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def runc_root(self) -> Path:
        return self.run / "runc"

    def container_dir(self, container_id: str) -> Path:
        return self.containers / container_id

    def bundle(self, container_id: str) -> Path:
        return self.container_dir(container_id) / "bundle"

    def rootfs(self, container_id: str) -> Path:
        return self.bundle(container_id) / "rootfs"

    def container_log(self, container_id: str) -> Path:
        return self.container_dir(container_id) / "ctr.log"

    def exit_dir(self, container_id: str) -> Path:
        return self.container_dir(container_id) / "exits"

    def socket_dir(self) -> Path:
        return self.run / "sock"

    def attach_socket(self, container_id: str) -> Path:
        # With --full-attach conmon puts the socket in the bundle directory.
        return self.bundle(container_id) / "attach"

    def volume_data(self, name: str) -> Path:
        return self.volumes / name / "_data"

    def netns_name(self, container_id: str) -> str:
        return f"berth-{container_id[:12]}"

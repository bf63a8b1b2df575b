//! hostPath volumes: the host path itself is mounted, after upstream's checks of `type`.
//!
//! | type | check |
//! | --- | --- |
//! | `""` (default) | none |
//! | `DirectoryOrCreate` | create it (mode 0755, parents too) if missing, then as `Directory` |
//! | `Directory` | a directory (symlinks followed) |
//! | `FileOrCreate` | create an empty file (0644) if missing, then as `File` |
//! | `File` | a regular file |
//! | `Socket`, `CharDevice`, `BlockDevice` | a UNIX socket, character device, block device |
//!
//! A path with a `..` element is refused whatever its type.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::api::core::HostPathVolumeSource;

/// What a path is, as upstream's `GetFileType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFileType {
    Directory,
    File,
    Socket,
    CharDevice,
    BlockDevice,
}

impl HostFileType {
    fn name(self) -> &'static str {
        match self {
            HostFileType::Directory => "Directory",
            HostFileType::File => "File",
            HostFileType::Socket => "Socket",
            HostFileType::CharDevice => "CharDevice",
            HostFileType::BlockDevice => "BlockDevice",
        }
    }
}

/// The host as the checks see it (the real one, or a fake in tests).
pub trait HostFiles {
    fn exists(&self, path: &str) -> bool;
    fn file_type(&self, path: &str) -> Result<HostFileType, String>;
    fn make_dir(&self, path: &str) -> io::Result<()>;
    fn make_file(&self, path: &str) -> io::Result<()>;
}

/// The real host.
pub struct RealHost;

impl HostFiles for RealHost {
    fn exists(&self, path: &str) -> bool {
        fs::metadata(path).is_ok()
    }

    fn file_type(&self, path: &str) -> Result<HostFileType, String> {
        let meta = match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(format!("path {path:?} does not exist")),
            Err(e) => return Err(format!("stat {path}: {e}")),
            Ok(m) => m,
        };
        let t = meta.file_type();
        Ok(if t.is_dir() {
            HostFileType::Directory
        } else if t.is_file() {
            HostFileType::File
        } else if t.is_socket() {
            HostFileType::Socket
        } else if t.is_char_device() {
            HostFileType::CharDevice
        } else if t.is_block_device() {
            HostFileType::BlockDevice
        } else {
            return Err("only recognise file, directory, socket, block device and character device".into());
        })
    }

    fn make_dir(&self, path: &str) -> io::Result<()> {
        match fs::DirBuilder::new().recursive(true).mode(0o755).create(path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        }
    }

    fn make_file(&self, path: &str) -> io::Result<()> {
        match fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o644).open(path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other.map(drop),
        }
    }
}

/// SetUp of a hostPath volume: the `..` check and the type check.
pub fn setup(source: &HostPathVolumeSource, host: &dyn HostFiles) -> Result<(), String> {
    let path = source.path.as_str();
    if Path::new(path).components().any(|c| c == std::path::Component::ParentDir) || path.split('/').any(|p| p == "..")
    {
        return Err(format!("invalid HostPath `{path}`: must not contain '..'"));
    }
    match source.type_.as_deref() {
        None | Some("") => Ok(()),
        Some(t) => check_type(path, t, host),
    }
}

/// Upstream's `checkTypeInternal`, with its error words.
pub fn check_type(path: &str, path_type: &str, host: &dyn HostFiles) -> Result<(), String> {
    let expect = |want: HostFileType, what: &str| match host.file_type(path) {
        Ok(t) if t == want => Ok(()),
        Ok(t) => Err(format!("hostPath type check failed: {path} is not a {what}, it's a {}", t.name())),
        Err(e) => Err(format!("hostPath type check failed, {path} is not a {what}, unable to determine its type: {e}")),
    };
    let made = |op: &str, r: io::Result<()>| r.map_err(|e| format!("{op} {path}: {e}"));
    match path_type {
        "DirectoryOrCreate" if !host.exists(path) => made("mkdir", host.make_dir(path)),
        "DirectoryOrCreate" | "Directory" => expect(HostFileType::Directory, "directory"),
        "FileOrCreate" if !host.exists(path) => made("open", host.make_file(path)),
        "FileOrCreate" | "File" => expect(HostFileType::File, "file"),
        "Socket" => expect(HostFileType::Socket, "socket file"),
        "CharDevice" => expect(HostFileType::CharDevice, "character device"),
        "BlockDevice" => expect(HostFileType::BlockDevice, "block device"),
        other => Err(format!("{other} is an invalid volume type")),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;

    /// A host with a few typed paths that records what was created.
    #[derive(Default)]
    struct FakeHost {
        paths: RefCell<BTreeMap<String, HostFileType>>,
        made: RefCell<Vec<String>>,
    }

    impl FakeHost {
        fn with(entries: &[(&str, HostFileType)]) -> FakeHost {
            let h = FakeHost::default();
            h.paths.borrow_mut().extend(entries.iter().map(|(p, t)| (p.to_string(), *t)));
            h
        }
    }

    impl HostFiles for FakeHost {
        fn exists(&self, path: &str) -> bool {
            self.paths.borrow().contains_key(path)
        }
        fn file_type(&self, path: &str) -> Result<HostFileType, String> {
            self.paths.borrow().get(path).copied().ok_or_else(|| format!("path {path:?} does not exist"))
        }
        fn make_dir(&self, path: &str) -> io::Result<()> {
            self.made.borrow_mut().push(format!("dir {path}"));
            self.paths.borrow_mut().insert(path.into(), HostFileType::Directory);
            Ok(())
        }
        fn make_file(&self, path: &str) -> io::Result<()> {
            self.made.borrow_mut().push(format!("file {path}"));
            self.paths.borrow_mut().insert(path.into(), HostFileType::File);
            Ok(())
        }
    }

    #[test]
    fn every_type() {
        use HostFileType::*;
        let host = FakeHost::with(&[("/d", Directory), ("/f", File), ("/s", Socket), ("/c", CharDevice), ("/b", BlockDevice)]);
        let ok = [
            ("/d", "Directory"), ("/d", "DirectoryOrCreate"), ("/f", "File"), ("/f", "FileOrCreate"),
            ("/s", "Socket"), ("/c", "CharDevice"), ("/b", "BlockDevice"),
        ];
        for (p, t) in ok {
            assert_eq!(check_type(p, t, &host), Ok(()), "{p} {t}");
        }
        let bad = [
            ("/f", "Directory", "hostPath type check failed: /f is not a directory, it's a File"),
            ("/d", "File", "hostPath type check failed: /d is not a file, it's a Directory"),
            ("/f", "DirectoryOrCreate", "hostPath type check failed: /f is not a directory, it's a File"),
            ("/d", "FileOrCreate", "hostPath type check failed: /d is not a file, it's a Directory"),
            ("/d", "Socket", "hostPath type check failed: /d is not a socket file, it's a Directory"),
            ("/b", "CharDevice", "hostPath type check failed: /b is not a character device, it's a BlockDevice"),
            ("/c", "BlockDevice", "hostPath type check failed: /c is not a block device, it's a CharDevice"),
            (
                "/missing",
                "Directory",
                "hostPath type check failed, /missing is not a directory, unable to determine its type: path \"/missing\" does not exist",
            ),
            ("/d", "Pipe", "Pipe is an invalid volume type"),
        ];
        for (p, t, want) in bad {
            assert_eq!(check_type(p, t, &host), Err(want.to_string()), "{p} {t}");
        }
        assert!(host.made.borrow().is_empty());
    }

    #[test]
    fn or_create_makes_what_is_missing() {
        let host = FakeHost::default();
        assert_eq!(check_type("/new/dir", "DirectoryOrCreate", &host), Ok(()));
        assert_eq!(check_type("/new/file", "FileOrCreate", &host), Ok(()));
        assert_eq!(*host.made.borrow(), ["dir /new/dir", "file /new/file"]);
    }

    #[test]
    fn setup_refuses_backsteps_and_skips_unset_type() {
        let host = FakeHost::default();
        let src = |path: &str, t: Option<&str>| HostPathVolumeSource { path: path.into(), type_: t.map(String::from) };
        assert_eq!(setup(&src("/var/../etc", Some("")), &host), Err("invalid HostPath `/var/../etc`: must not contain '..'".to_string()));
        assert_eq!(setup(&src("/nowhere", None), &host), Ok(()));
        assert_eq!(setup(&src("/nowhere", Some("")), &host), Ok(()));
        assert!(setup(&src("/nowhere", Some("Directory")), &host).is_err());
    }

    #[test]
    fn real_host() {
        let s = crate::volume::testutil::Scratch::new("hostpath");
        let dir = s.path().join("a/b");
        let dir = dir.to_string_lossy();
        assert!(check_type(&dir, "Directory", &RealHost).is_err());
        assert_eq!(check_type(&dir, "DirectoryOrCreate", &RealHost), Ok(()));
        assert_eq!(RealHost.file_type(&dir), Ok(HostFileType::Directory));
        let file = s.path().join("f").to_string_lossy().into_owned();
        assert_eq!(check_type(&file, "FileOrCreate", &RealHost), Ok(()));
        assert_eq!(RealHost.file_type(&file), Ok(HostFileType::File));
        assert_eq!(RealHost.file_type("/dev/null"), Ok(HostFileType::CharDevice));
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(s.path().join("a/b")).expect("dir").permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }
}

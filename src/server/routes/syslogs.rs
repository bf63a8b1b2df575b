//! `GET /logs/<path>`: the node's log files under `/var/log/`, as upstream's file server
//! shows them (a directory is an HTML list of links, a file is its bytes).
//!
//! Guarded more than upstream: only GET; a path with a `..` segment or a NUL is refused;
//! what a path resolves to (symlinks followed) must still be inside the log directory.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{Deps, allow};
use crate::server::http::response::TEXT;
use crate::server::http::{Request, Response};
use crate::server::listener::Outcome;

/// The file or directory `rel` names under `root`, if it stays there.
pub fn resolve(root: &Path, rel: &str) -> Result<PathBuf, Response> {
    if rel.contains('\0') || rel.split('/').any(|s| s == "..") {
        return Err(Response::error(400, "invalid URL path"));
    }
    let root = std::fs::canonicalize(root).map_err(|_| Response::not_found())?;
    let joined = root.join(rel.trim_start_matches('/'));
    let real = std::fs::canonicalize(&joined).map_err(|_| Response::not_found())?;
    if !real.starts_with(&root) {
        return Err(Response::error(403, "403 Forbidden"));
    }
    Ok(real)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// Go's directory listing: sorted names, directories with a trailing slash.
pub fn listing(dir: &Path) -> io::Result<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) { format!("{name}/") } else { name }
        })
        .collect();
    names.sort();
    let mut body = String::from("<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n");
    for name in names {
        let href: String = name.bytes().map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        }).collect();
        body.push_str(&format!("<a href=\"{href}\">{}</a>\n", html_escape(&name)));
    }
    body.push_str("</pre>\n");
    Ok(body)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz" | "xz" | "zst" | "bz2") => "application/octet-stream",
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html; charset=utf-8",
        _ => TEXT,
    }
}

pub fn serve(d: &Deps, req: &Request) -> Outcome {
    match serve_inner(d, req) {
        Ok(o) => o,
        Err(r) => Outcome::Reply(r),
    }
}

fn serve_inner(d: &Deps, req: &Request) -> Result<Outcome, Response> {
    allow(req, &["GET"])?;
    let rel = req.path().strip_prefix("/logs/").unwrap_or_default();
    let real = resolve(&d.node_log_dir, rel)?;
    let meta = std::fs::metadata(&real).map_err(|_| Response::not_found())?;
    if meta.is_dir() {
        if !rel.is_empty() && !rel.ends_with('/') {
            // As Go's file server: a directory is always addressed with its slash.
            let last = rel.rsplit('/').next().unwrap_or_default();
            return Ok(Outcome::Reply(Response::text(301, "").with_header("Location", &format!("{last}/"))));
        }
        let body = listing(&real).map_err(|e| Response::error(500, &e.to_string()))?;
        return Ok(Outcome::Reply(Response::new(200, "text/html; charset=utf-8", body)));
    }
    let file = File::open(&real).map_err(|_| Response::error(403, "403 Forbidden"))?;
    let headers = vec![("Content-Type".to_string(), content_type(&real).to_string())];
    let length = meta.len();
    let body = Box::new(move |w: &mut crate::server::listener::BodyWriter<'_>| {
        // Exactly the announced length, even if the file grows meanwhile.
        io::copy(&mut io::Read::take(file, length), w).map(|_| ())
    });
    Ok(Outcome::Stream { status: 200, headers, length: Some(length), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let root = std::env::temp_dir().join(format!("rk-syslogs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(root.join("pods/ns_p_u"));
        let _ = std::fs::write(root.join("syslog"), "hello\n");
        let _ = std::fs::write(root.join("a <b>.log"), "x");
        let outside = std::env::temp_dir().join(format!("rk-syslogs-outside-{}", std::process::id()));
        let _ = std::fs::write(&outside, "secret");
        let _ = std::os::unix::fs::symlink(&outside, root.join("escape"));

        assert!(resolve(&root, "syslog").is_ok());
        assert!(resolve(&root, "").is_ok());
        assert!(resolve(&root, "pods/./ns_p_u").is_ok());
        assert_eq!(resolve(&root, "../etc/passwd").map_err(|r| r.status), Err(400));
        assert_eq!(resolve(&root, "pods/../../x").map_err(|r| r.status), Err(400));
        assert_eq!(resolve(&root, "a\0b").map_err(|r| r.status), Err(400));
        assert_eq!(resolve(&root, "escape").map_err(|r| r.status), Err(403));
        assert_eq!(resolve(&root, "missing").map_err(|r| r.status), Err(404));

        let list = listing(&root).unwrap_or_default();
        assert!(list.starts_with("<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n"));
        assert!(list.contains("<a href=\"a%20%3Cb%3E.log\">a &lt;b&gt;.log</a>\n"), "{list}");
        assert!(list.contains("<a href=\"pods/\">pods/</a>\n<a href=\"syslog\">syslog</a>\n"), "{list}");
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_file(&outside);
    }
}

//! `GET /containerLogs/{ns}/{pod}/{container}`: query parameters as upstream decodes and
//! validates them (v1 PodLogOptions), the container chosen from the pod's status as
//! upstream's `validateContainerLogStatus`, then the log file streamed by
//! [`crate::logs::read`].

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Deps, allow, find_pod};
use crate::api::MicroTime;
use crate::logs::{self, LogReader, Next, ReadOptions};
use crate::api::core::{ContainerStatus, Pod};
use crate::server::http::response::TEXT;
use crate::server::http::{Request, Response};
use crate::server::listener::{BodyWriter, Outcome};

/// The v1 PodLogOptions the kubelet acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub since_seconds: Option<i64>,
    /// `sinceTime`; an empty value or `null` is the zero time (everything), as in Go.
    pub since_time: Option<MicroTime>,
    pub tail_lines: Option<i64>,
    pub limit_bytes: Option<i64>,
    pub stream: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOptionsError {
    /// A value that does not convert (400 `Unable to decode query.`).
    Decode,
    /// Values that do not validate (422 `Invalid request.`).
    Invalid,
}

fn first<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Go's query-to-bool: absent is false; "0" and "false" (any case) are false; anything else,
/// the empty string too, is true.
fn flag(query: &[(String, String)], key: &str) -> bool {
    first(query, key).is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn int(query: &[(String, String)], key: &str) -> Result<Option<i64>, LogOptionsError> {
    first(query, key).map(|v| v.parse::<i64>().map_err(|_| LogOptionsError::Decode)).transpose()
}

/// Decodes and validates the query (with the legacy `tail` parameter, `all` meaning none).
pub fn parse_log_options(query: &[(String, String)]) -> Result<LogOptions, LogOptionsError> {
    let mut query = query.to_vec();
    if let Some(tail) = first(&query, "tail").filter(|t| !t.is_empty()).map(str::to_string) {
        query.retain(|(k, _)| k != "tailLines");
        if tail != "all" {
            query.push(("tailLines".into(), tail));
        }
    }
    let since_time = match first(&query, "sinceTime") {
        None => None,
        Some("" | "null") => Some(MicroTime::from_unix_micros(i64::MIN)),
        Some(t) => Some(MicroTime::parse(t).map_err(|_| LogOptionsError::Decode)?),
    };
    let opts = LogOptions {
        follow: flag(&query, "follow"),
        previous: flag(&query, "previous"),
        timestamps: flag(&query, "timestamps"),
        since_seconds: int(&query, "sinceSeconds")?,
        since_time,
        tail_lines: int(&query, "tailLines")?,
        limit_bytes: int(&query, "limitBytes")?,
        stream: first(&query, "stream").map(str::to_string),
    };
    let invalid = opts.tail_lines.is_some_and(|t| t < 0)
        || opts.limit_bytes.is_some_and(|l| l < 1)
        || (opts.since_seconds.is_some() && opts.since_time.is_some())
        || opts.since_seconds.is_some_and(|s| s < 1)
        || opts.stream.as_deref().is_some_and(|s| !matches!(s, "All" | "Stdout" | "Stderr"))
        || (opts.stream.as_deref().is_some_and(|s| s != "All") && opts.tail_lines.is_some());
    if invalid {
        return Err(LogOptionsError::Invalid);
    }
    Ok(opts)
}

fn status_of<'a>(pod: &'a Pod, name: &str) -> Option<&'a ContainerStatus> {
    let s = &pod.status;
    s.container_statuses.iter().chain(&s.init_container_statuses).chain(&s.ephemeral_container_statuses).find(|c| c.name == name)
}

/// The container whose log to read, from the pod's status (upstream's rules and messages).
pub fn log_container_id(pod: &Pod, container: &str, previous: bool) -> Result<String, String> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let Some(cs) = status_of(pod, container) else {
        return Err(format!("container {container:?} in pod {pod_name:?} is not available"));
    };
    let state = cs.state.clone().unwrap_or_default();
    let last = cs.last_state.clone().unwrap_or_default().terminated;
    let last_id = last.as_ref().and_then(|t| t.container_id.clone()).filter(|id| !id.is_empty());
    let terminated_msg = || format!("container {container:?} in pod {pod_name:?} is terminated");
    let id = if previous {
        last_id.ok_or_else(|| format!("previous terminated container {container:?} in pod {pod_name:?} not found"))?
    } else if state.running.is_some() {
        cs.container_id.clone().unwrap_or_default()
    } else if let Some(t) = &state.terminated {
        match t.container_id.clone().filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => last_id.ok_or_else(terminated_msg)?,
        }
    } else if last.is_some() {
        last_id.ok_or_else(terminated_msg)?
    } else if let Some(w) = &state.waiting {
        let reason = match w.reason.as_deref().unwrap_or_default() {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Err(format!("container {container:?} in pod {pod_name:?} is waiting to start: {reason}"));
    } else {
        return Err(format!("container {container:?} in pod {pod_name:?} is waiting to start - no logs yet"));
    };
    // `containerd://<id>` → `<id>`
    Ok(id.split_once("://").map_or(id.clone(), |(_, id)| id.to_string()))
}

fn has_container(pod: &Pod, name: &str) -> bool {
    let s = &pod.spec;
    s.containers.iter().chain(&s.init_containers).any(|c| c.name == name) || s.ephemeral_containers.iter().any(|c| c.common.name == name)
}

/// How long a follower waits at the end of the file before it looks for its client.
const FOLLOW_WAIT: Duration = Duration::from_millis(500);

pub fn serve(d: &Deps, req: &Request, segments: &[&str]) -> Outcome {
    match prepare(d, req, segments) {
        Ok(o) => o,
        Err(r) => Outcome::Reply(r),
    }
}

/// Writes the lines as they come; while following, flushes and looks for the client at
/// each pause.
fn stream(mut reader: LogReader, w: &mut BodyWriter<'_>) -> io::Result<()> {
    let mut wait = Duration::ZERO;
    loop {
        match reader.next_line(wait).map_err(io::Error::other)? {
            Next::Line(line) => {
                w.write_all(&line.bytes)?;
                wait = Duration::ZERO;
            }
            Next::End => return w.flush(),
            Next::Idle => {
                w.flush()?;
                if w.client_gone() {
                    return Ok(());
                }
                wait = FOLLOW_WAIT;
            }
        }
    }
}

fn prepare(d: &Deps, req: &Request, segments: &[&str]) -> Result<Outcome, Response> {
    let ["containerLogs", namespace, pod_name, container] = segments else { return Err(Response::not_found()) };
    allow(req, &["GET"])?;
    let missing = |what: &str| Response::text(400, format!("{{\"message\": \"Missing {what}.\"}}"));
    if pod_name.is_empty() {
        return Err(missing("podID"));
    }
    if container.is_empty() {
        return Err(missing("container name"));
    }
    if namespace.is_empty() {
        return Err(missing("podNamespace"));
    }
    let opts = parse_log_options(&req.query()).map_err(|e| match e {
        LogOptionsError::Decode => Response::text(400, "{\"message\": \"Unable to decode query.\"}"),
        LogOptionsError::Invalid => Response::text(422, "{\"message\": \"Invalid request.\"}"),
    })?;
    if let Some(stream) = opts.stream.as_deref().filter(|s| *s != "All") {
        return Err(Response::text(
            400,
            format!("unable to return the given log stream: {stream:?}. Please enable PodLogsQuerySplitStreams feature gate in kubelet"),
        ));
    }
    let pod = find_pod(d, namespace, pod_name).ok_or_else(|| Response::text(404, format!("pod {pod_name:?} does not exist")))?;
    if !has_container(&pod, container) {
        return Err(Response::text(404, format!("container {container:?} not found in pod {pod_name:?}")));
    }
    let id = log_container_id(&pod, container, opts.previous).map_err(|e| Response::text(400, e))?;
    let log = d.host.container_log(&id).map_err(|e| Response::text(400, e))?;
    let since_time = opts.since_time.map(SystemTime::from);
    let read = ReadOptions {
        since: ReadOptions::since(opts.since_seconds, since_time, SystemTime::now()),
        tail_lines: opts.tail_lines,
        limit_bytes: opts.limit_bytes,
        follow: opts.follow,
        timestamps: opts.timestamps,
    };
    let host = d.host.clone();
    let path = log.path;
    let body = Box::new(move |w: &mut BodyWriter<'_>| {
        let host: Arc<dyn super::Host> = host;
        let mut known = Some(log.running);
        // The logs reader asks at most once a second while it waits at the end of the file.
        let running = move || known.take().unwrap_or_else(|| host.container_log(&id).is_ok_and(|l| l.running));
        let reader = logs::read(&path, &read).map_err(io::Error::other)?;
        stream(reader.with_liveness(Box::new(running)), w)
    });
    Ok(Outcome::Stream { status: 200, headers: vec![("Content-Type".into(), TEXT.into())], length: None, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        crate::server::http::url::parse_query(s)
    }

    #[test]
    fn options_decode_as_go_does() {
        let o = parse_log_options(&q("follow&previous=FALSE&timestamps=1&tailLines=10&limitBytes=5&sinceSeconds=3"));
        let want = LogOptions {
            follow: true,
            previous: false,
            timestamps: true,
            tail_lines: Some(10),
            limit_bytes: Some(5),
            since_seconds: Some(3),
            ..Default::default()
        };
        assert_eq!(o, Ok(want));
        assert_eq!(parse_log_options(&q("tail=7&tailLines=1")).map(|o| o.tail_lines), Ok(Some(7)));
        assert_eq!(parse_log_options(&q("tail=all&tailLines=1")).map(|o| o.tail_lines), Ok(None));
        let t = parse_log_options(&q("sinceTime=2024-05-01T10:00:00.5%2B02:00")).map(|o| o.since_time.map(|t| t.unix_micros()));
        assert_eq!(t, Ok(Some(1_714_550_400_500_000)));
        assert!(parse_log_options(&q("sinceTime=")).is_ok_and(|o| o.since_time.is_some()));
    }

    #[test]
    fn bad_values_fail_like_upstream() {
        for (query, err) in [
            ("tailLines=x", LogOptionsError::Decode),
            ("limitBytes=", LogOptionsError::Decode),
            ("sinceTime=yesterday", LogOptionsError::Decode),
            ("tailLines=-1", LogOptionsError::Invalid),
            ("limitBytes=0", LogOptionsError::Invalid),
            ("sinceSeconds=0", LogOptionsError::Invalid),
            ("sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z", LogOptionsError::Invalid),
            ("stream=Both", LogOptionsError::Invalid),
            ("stream=Stdout&tailLines=3", LogOptionsError::Invalid),
        ] {
            assert_eq!(parse_log_options(&q(query)), Err(err), "{query}");
        }
    }
}

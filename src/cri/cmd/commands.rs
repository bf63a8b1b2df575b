//! One function per `rkubelet cri` subcommand: make the calls, print the answer.

use std::io::Write;
use std::time::SystemTime;

use serde_json::Value;

use super::args::{Command, Invocation, Output};
use super::table::{Table, human_size, short_id, since};
use super::{CmdError, json};
use crate::cri::*;

/// Where the subcommands write: the command's output, and per-item failures.
pub struct Sinks<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// What every subcommand works with.
struct Ctx<'a> {
    inv: &'a Invocation,
    client: &'a Client,
    now: SystemTime,
}

/// Runs the command; `Ok` carries the exit code (a command's own, for `exec`).
pub fn run(inv: &Invocation, client: &Client, io: &mut Sinks<'_>) -> Result<i32, CmdError> {
    let cx = Ctx { inv, client, now: SystemTime::now() };
    match &inv.command {
        Command::Help => {
            io.out.write_all(super::args::usage().as_bytes())?;
        }
        Command::Version => version(&cx, io)?,
        Command::Info => {
            let status = client.status(&StatusRequest { verbose: true })?;
            print_json(io, &json::runtime_status(&status))?;
        }
        Command::Pods => pods(&cx, io)?,
        Command::Ps => ps(&cx, io)?,
        Command::Images => images(&cx, io)?,
        Command::Inspectp(id) => inspectp(&cx, io, id)?,
        Command::Inspect(id) => inspect(&cx, io, id)?,
        Command::Stopp(ids) => stop_and_remove(client, io, ids, false)?,
        Command::Rmp(ids) if ids.is_empty() => {
            let all = client.list_pod_sandbox(&ListPodSandboxRequest::default())?;
            let ids: Vec<String> = all.items.into_iter().map(|p| p.id).collect();
            stop_and_remove(client, io, &ids, true)?;
        }
        Command::Rmp(ids) => stop_and_remove(client, io, ids, true)?,
        Command::Exec { id, cmd } => return exec(&cx, io, id, cmd),
    }
    Ok(0)
}

fn print_json(io: &mut Sinks<'_>, value: &Value) -> Result<(), CmdError> {
    serde_json::to_writer_pretty(&mut *io.out, value).map_err(std::io::Error::from)?;
    io.out.write_all(b"\n")?;
    Ok(())
}

fn version(cx: &Ctx<'_>, io: &mut Sinks<'_>) -> Result<(), CmdError> {
    let v = cx.client.version(&VersionRequest { version: CRI_API_VERSION.to_string() })?;
    match cx.inv.output {
        Output::Json => print_json(io, &json::version(&v)),
        Output::Table => {
            let text = format!(
                "Version:  {}\nRuntimeName:  {}\nRuntimeVersion:  {}\nRuntimeApiVersion:  {}\n",
                v.version, v.runtime_name, v.runtime_version, v.runtime_api_version
            );
            Ok(io.out.write_all(text.as_bytes())?)
        }
    }
}

fn sandbox_state_word(state: PodSandboxState) -> String {
    match state {
        PodSandboxState::READY => "Ready".to_string(),
        PodSandboxState::NOT_READY => "NotReady".to_string(),
        other => format!("{other:?}"),
    }
}

fn container_state_word(state: ContainerState) -> String {
    match state.name() {
        Some(name) => {
            let mut chars = name.chars();
            chars.next().map(|c| c.to_string()).unwrap_or_default() + &chars.as_str().to_lowercase()
        }
        None => format!("{state:?}"),
    }
}

fn pods(cx: &Ctx<'_>, io: &mut Sinks<'_>) -> Result<(), CmdError> {
    let mut list = cx.client.list_pod_sandbox(&ListPodSandboxRequest::default())?.items;
    // Newest first, as crictl sorts.
    list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    if cx.inv.output == Output::Json {
        return print_json(io, &json::items(list.iter().map(json::sandbox).collect()));
    }
    let mut t = Table::new(&["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT"]);
    for p in &list {
        let m = p.metadata.clone().unwrap_or_default();
        t.row(vec![
            short_id(&p.id),
            since(p.created_at, cx.now),
            sandbox_state_word(p.state),
            m.name,
            m.namespace,
            m.attempt.to_string(),
        ]);
    }
    Ok(io.out.write_all(t.render().as_bytes())?)
}

fn ps(cx: &Ctx<'_>, io: &mut Sinks<'_>) -> Result<(), CmdError> {
    let filter = (!cx.inv.all).then(|| ContainerFilter {
        state: Some(ContainerStateValue { state: ContainerState::RUNNING }),
        ..Default::default()
    });
    let mut list = cx.client.list_containers(&ListContainersRequest { filter })?.containers;
    list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    if cx.inv.output == Output::Json {
        return print_json(io, &json::items(list.iter().map(json::container).collect()));
    }
    let mut t = Table::new(&["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID"]);
    for c in &list {
        let m = c.metadata.clone().unwrap_or_default();
        let image = c.image.as_ref().map_or("", |i| i.image.as_str());
        let image = if image.starts_with("sha256:") { short_id(image) } else { image.to_string() };
        t.row(vec![
            short_id(&c.id),
            image,
            since(c.created_at, cx.now),
            container_state_word(c.state),
            m.name,
            m.attempt.to_string(),
            short_id(&c.pod_sandbox_id),
        ]);
    }
    Ok(io.out.write_all(t.render().as_bytes())?)
}

/// `name:tag` split at the tag's colon (a registry port's colon comes before a slash).
fn split_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "<none>"),
    }
}

fn images(cx: &Ctx<'_>, io: &mut Sinks<'_>) -> Result<(), CmdError> {
    let mut list = cx.client.list_images(&ListImagesRequest::default())?.images;
    list.sort_by(|a, b| a.repo_tags.cmp(&b.repo_tags).then_with(|| a.id.cmp(&b.id)));
    if cx.inv.output == Output::Json {
        return print_json(io, &json::items(list.iter().map(json::image).collect()));
    }
    let mut t = Table::new(&["IMAGE", "TAG", "IMAGE ID", "SIZE"]);
    for image in &list {
        let mut names: Vec<(&str, &str)> = image.repo_tags.iter().map(|t| split_tag(t)).collect();
        if names.is_empty() {
            let repo =
                image.repo_digests.first().map_or("<none>", |d| d.split('@').next().unwrap_or("<none>"));
            names.push((repo, "<none>"));
        }
        for (repo, tag) in names {
            t.row(vec![repo.to_string(), tag.to_string(), short_id(&image.id), human_size(image.size)]);
        }
    }
    Ok(io.out.write_all(t.render().as_bytes())?)
}

fn inspectp(cx: &Ctx<'_>, io: &mut Sinks<'_>, id: &str) -> Result<(), CmdError> {
    let r = cx
        .client
        .pod_sandbox_status(&PodSandboxStatusRequest { pod_sandbox_id: id.to_string(), verbose: true })?;
    if cx.inv.output == Output::Json {
        return print_json(io, &json::sandbox_status_response(&r));
    }
    let s = r.status.unwrap_or_default();
    let m = s.metadata.unwrap_or_default();
    let ip = s.network.map(|n| n.ip).unwrap_or_default();
    let lines = [
        ("ID", s.id),
        ("Name", m.name),
        ("UID", m.uid),
        ("Namespace", m.namespace),
        ("Attempt", m.attempt.to_string()),
        ("Status", sandbox_state_word(s.state)),
        ("Created", since(s.created_at, cx.now)),
        ("IP Address", ip),
    ];
    write_fields(io, &lines, &s.labels, &s.annotations)
}

fn inspect(cx: &Ctx<'_>, io: &mut Sinks<'_>, id: &str) -> Result<(), CmdError> {
    let r = cx
        .client
        .container_status(&ContainerStatusRequest { container_id: id.to_string(), verbose: true })?;
    if cx.inv.output == Output::Json {
        return print_json(io, &json::container_status_response(&r));
    }
    let s = r.status.unwrap_or_default();
    let m = s.metadata.unwrap_or_default();
    let lines = [
        ("ID", s.id),
        ("Name", m.name),
        ("Attempt", m.attempt.to_string()),
        ("State", container_state_word(s.state)),
        ("Created", since(s.created_at, cx.now)),
        ("Image", s.image.map(|i| i.image).unwrap_or_default()),
        ("Image Ref", s.image_ref),
        ("Exit Code", s.exit_code.to_string()),
        ("Reason", s.reason),
        ("Log Path", s.log_path),
    ];
    write_fields(io, &lines, &s.labels, &s.annotations)
}

type Labels = std::collections::BTreeMap<String, String>;

fn write_fields(
    io: &mut Sinks<'_>,
    lines: &[(&str, String)],
    labels: &Labels,
    annotations: &Labels,
) -> Result<(), CmdError> {
    let mut text = String::new();
    for (name, value) in lines {
        text.push_str(&format!("{name}: {value}\n"));
    }
    for (title, map) in [("Labels", labels), ("Annotations", annotations)] {
        text.push_str(&format!("{title}:\n"));
        for (k, v) in map {
            text.push_str(&format!("\t{k} -> {v}\n"));
        }
    }
    Ok(io.out.write_all(text.as_bytes())?)
}

/// Stops (and with `remove`, removes) each sandbox; reports each failure and goes on.
fn stop_and_remove(
    client: &Client,
    io: &mut Sinks<'_>,
    ids: &[String],
    remove: bool,
) -> Result<(), CmdError> {
    let mut failed = 0;
    for id in ids {
        let done =
            client.stop_pod_sandbox(&StopPodSandboxRequest { pod_sandbox_id: id.clone() }).and_then(|_| {
                if remove {
                    client
                        .remove_pod_sandbox(&RemovePodSandboxRequest { pod_sandbox_id: id.clone() })
                        .map(|_| ())
                } else {
                    Ok(())
                }
            });
        match done {
            Ok(()) => writeln!(io.out, "{} sandbox {id}", if remove { "Removed" } else { "Stopped" })?,
            Err(e) => {
                failed += 1;
                writeln!(io.err, "rkubelet cri: sandbox {id}: {e}")?;
            }
        }
    }
    if failed > 0 {
        return Err(CmdError::Partial { failed, total: ids.len() });
    }
    Ok(())
}

fn exec(cx: &Ctx<'_>, io: &mut Sinks<'_>, id: &str, cmd: &[String]) -> Result<i32, CmdError> {
    // The command gets the whole --timeout; the call waits that long plus the timeout again.
    let seconds = cx.inv.timeout.as_secs() + u64::from(cx.inv.timeout.subsec_nanos() > 0);
    let request = ExecSyncRequest {
        container_id: id.to_string(),
        cmd: cmd.to_vec(),
        timeout: i64::try_from(seconds).unwrap_or(i64::MAX),
    };
    let r = cx.client.exec_sync(&request)?;
    io.out.write_all(&r.stdout)?;
    io.out.flush()?;
    io.err.write_all(&r.stderr)?;
    Ok(r.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_words() {
        assert_eq!(sandbox_state_word(PodSandboxState::READY), "Ready");
        assert_eq!(sandbox_state_word(PodSandboxState::NOT_READY), "NotReady");
        assert_eq!(sandbox_state_word(PodSandboxState(9)), "PodSandboxState(9)");
        assert_eq!(container_state_word(ContainerState::RUNNING), "Running");
        assert_eq!(container_state_word(ContainerState::EXITED), "Exited");
        assert_eq!(container_state_word(ContainerState(9)), "ContainerState(9)");
    }

    #[test]
    fn tags_split_after_the_registry_port() {
        assert_eq!(split_tag("docker.io/library/busybox:1.35"), ("docker.io/library/busybox", "1.35"));
        assert_eq!(split_tag("localhost:5000/app"), ("localhost:5000/app", "<none>"));
        assert_eq!(split_tag("localhost:5000/app:v2"), ("localhost:5000/app", "v2"));
    }
}

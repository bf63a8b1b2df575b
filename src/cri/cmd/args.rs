//! The command line of `rkubelet cri`: global flags anywhere before the positional
//! arguments end, one subcommand, its arguments.

use std::time::Duration;

use crate::config::GoDuration;

/// The kubelet's default `--container-runtime-endpoint`.
pub const DEFAULT_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";
/// The environment variable read when the flag is absent (crictl reads the same).
pub const ENDPOINT_ENV: &str = "CONTAINER_RUNTIME_ENDPOINT";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The subcommands and what they do: the `--help` text and the man page are made from this.
pub const COMMANDS: &[(&str, &str)] = &[
    ("version", "The runtime's name and versions (Version)."),
    ("info", "The runtime's conditions and configuration (Status, verbose), as JSON."),
    ("pods", "Pod sandboxes (ListPodSandbox): POD ID, CREATED, STATE, NAME, NAMESPACE, ATTEMPT."),
    (
        "ps [-a]",
        "Containers (ListContainers): CONTAINER, IMAGE, CREATED, STATE, NAME, ATTEMPT, POD ID; running ones unless -a.",
    ),
    ("images", "Images (ListImages): IMAGE, TAG, IMAGE ID, SIZE."),
    ("inspectp ID", "One pod sandbox (PodSandboxStatus, verbose)."),
    ("inspect ID", "One container (ContainerStatus, verbose)."),
    ("stopp ID...", "Stop pod sandboxes."),
    ("rmp [-a] ID...", "Stop and remove pod sandboxes; -a: every pod sandbox of the runtime."),
    (
        "exec ID [--] CMD...",
        "Run CMD in a container (ExecSync) and print its output; exits with CMD's exit code.",
    ),
];

/// The flags of `rkubelet cri`.
pub const FLAGS: &[(&str, &str)] = &[
    (
        "--container-runtime-endpoint=unix://PATH",
        "The runtime's socket (also -r, --runtime-endpoint). Default: $CONTAINER_RUNTIME_ENDPOINT, else unix:///run/containerd/containerd.sock. Only unix sockets are supported.",
    ),
    (
        "--timeout=DURATION",
        "Deadline of each call, e.g. 10s or 1m (exec: how long the command may run). Default: 10s.",
    ),
    (
        "-o, --output=table|json",
        "Output of version, pods, ps, images, inspectp and inspect. Default: table, except json for inspectp and inspect. JSON lists are {\"items\": [...]} with proto field names (id, metadata, state such as SANDBOX_READY or CONTAINER_RUNNING, createdAt in nanoseconds since the epoch, labels, annotations).",
    ),
    ("-a, --all", "ps: containers in every state. rmp: every pod sandbox."),
    ("-h, --help", "Print the usage."),
];

/// The text of `rkubelet cri --help`.
pub fn usage() -> String {
    let mut text = String::from(
        "Usage: rkubelet cri [flags] COMMAND [args]\n\nDiagnostics against the CRI runtime, in the spirit of crictl.\n\nCommands:\n",
    );
    for (name, what) in COMMANDS {
        text.push_str(&format!("  {name:<22}{what}\n"));
    }
    text.push_str("\nFlags:\n");
    for (name, what) in FLAGS {
        text.push_str(&format!("  {name}\n      {what}\n"));
    }
    text.push_str("\nExit status: 0 on success, 1 on any error, the command's own for exec.\n");
    text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    Info,
    Pods,
    Ps,
    Images,
    Inspectp(String),
    Inspect(String),
    Stopp(Vec<String>),
    Rmp(Vec<String>),
    Exec { id: String, cmd: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub endpoint: String,
    pub timeout: Duration,
    pub output: Output,
    pub all: bool,
    pub command: Command,
}

/// What the user asked for, before it is checked.
#[derive(Default)]
struct Raw {
    endpoint: Option<String>,
    timeout: Option<Duration>,
    output: Option<Output>,
    all: bool,
    help: bool,
    words: Vec<String>,
    /// `exec`: everything after the container id (or after `--`).
    exec_cmd: Option<Vec<String>>,
}

/// Parses `args` (what follows `rkubelet cri`); `env_endpoint` is `$CONTAINER_RUNTIME_ENDPOINT`.
pub fn parse(args: &[String], env_endpoint: Option<String>) -> Result<Invocation, String> {
    let raw = scan(args)?;
    let output = raw.output;
    let words = raw.words;
    let command = if raw.help { Command::Help } else { command(&words, raw.exec_cmd, raw.all)? };
    if output.is_some()
        && !matches!(
            command,
            Command::Version
                | Command::Pods
                | Command::Ps
                | Command::Images
                | Command::Inspectp(_)
                | Command::Inspect(_)
        )
    {
        return Err(format!("-o is not supported by {}", words.first().map_or("", String::as_str)));
    }
    if raw.all && !matches!(command, Command::Ps | Command::Rmp(_) | Command::Help) {
        return Err(format!("-a is not supported by {}", words.first().map_or("", String::as_str)));
    }
    let default_output = match command {
        Command::Inspectp(_) | Command::Inspect(_) => Output::Json,
        _ => Output::Table,
    };
    Ok(Invocation {
        endpoint: raw
            .endpoint
            .or(env_endpoint.filter(|e| !e.is_empty()))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
        timeout: raw.timeout.unwrap_or(DEFAULT_TIMEOUT),
        output: output.unwrap_or(default_output),
        all: raw.all,
        command,
    })
}

fn scan(args: &[String]) -> Result<Raw, String> {
    let mut raw = Raw::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        // Past `exec ID`, every word belongs to the command.
        if raw.words.first().is_some_and(|w| w == "exec") && raw.words.len() == 2 {
            let rest: Vec<String> = std::iter::once(arg).chain(iter.by_ref()).cloned().collect();
            let rest = if rest.first().is_some_and(|a| a == "--") { rest[1..].to_vec() } else { rest };
            raw.exec_cmd = Some(rest);
            break;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with('-') => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |flag: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("flag {flag} needs a value"))
        };
        match name {
            "-h" | "--help" => raw.help = true,
            "-a" | "--all" => raw.all = true,
            "-r" | "--runtime-endpoint" | "--container-runtime-endpoint" => raw.endpoint = Some(value(name)?),
            "--timeout" | "-t" => {
                let text = value(name)?;
                let d = GoDuration::parse(&text).map_err(|e| format!("--timeout: {e}"))?;
                match d.to_std() {
                    Some(d) if !d.is_zero() => raw.timeout = Some(d),
                    _ => return Err(format!("--timeout must be positive, not {text:?}")),
                }
            }
            "-o" | "--output" => {
                raw.output = Some(match value(name)?.as_str() {
                    "table" => Output::Table,
                    "json" => Output::Json,
                    other => return Err(format!("unknown output format {other:?} (table or json)")),
                })
            }
            "--" => return Err("unexpected --".to_string()),
            flag if flag.starts_with('-') && flag.len() > 1 => return Err(format!("unknown flag {flag}")),
            word => raw.words.push(word.to_string()),
        }
    }
    Ok(raw)
}

fn command(words: &[String], exec_cmd: Option<Vec<String>>, all: bool) -> Result<Command, String> {
    let Some((name, rest)) = words.split_first() else {
        return Err("no command given".to_string());
    };
    let one = |what: &str| match rest {
        [id] => Ok(id.clone()),
        _ => Err(format!("{name} takes exactly one {what}")),
    };
    let none = || if rest.is_empty() { Ok(()) } else { Err(format!("{name} takes no arguments")) };
    Ok(match name.as_str() {
        "help" => Command::Help,
        "version" => none().map(|()| Command::Version)?,
        "info" => none().map(|()| Command::Info)?,
        "pods" => none().map(|()| Command::Pods)?,
        "ps" => none().map(|()| Command::Ps)?,
        "images" => none().map(|()| Command::Images)?,
        "inspectp" => Command::Inspectp(one("pod sandbox ID")?),
        "inspect" => Command::Inspect(one("container ID")?),
        "stopp" if rest.is_empty() => return Err("stopp needs at least one pod sandbox ID".to_string()),
        "stopp" => Command::Stopp(rest.to_vec()),
        "rmp" if rest.is_empty() && !all => return Err("rmp needs pod sandbox IDs, or -a".to_string()),
        "rmp" if !rest.is_empty() && all => return Err("rmp takes either IDs or -a, not both".to_string()),
        "rmp" => Command::Rmp(rest.to_vec()),
        "exec" => match (rest, exec_cmd) {
            ([id], Some(cmd)) if !cmd.is_empty() => Command::Exec { id: id.clone(), cmd },
            _ => return Err("usage: exec CONTAINER-ID [--] COMMAND [ARG...]".to_string()),
        },
        other => return Err(format!("unknown command {other:?}")),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn ok(line: &str) -> Invocation {
        parse(&args(line), None).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn err(line: &str) -> String {
        parse(&args(line), None).unwrap_err()
    }

    #[test]
    fn defaults() {
        let inv = ok("pods");
        assert_eq!(inv.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(inv.timeout, Duration::from_secs(10));
        assert_eq!((inv.output, inv.all, inv.command), (Output::Table, false, Command::Pods));
        assert_eq!(ok("inspect abc").output, Output::Json);
        assert_eq!(ok("inspectp abc -o table").output, Output::Table);
    }

    #[test]
    fn endpoint_from_flag_env_or_default() {
        let env = Some("unix:///env.sock".to_string());
        let flag = parse(&args("--container-runtime-endpoint=unix:///flag.sock pods"), env.clone()).unwrap();
        assert_eq!(flag.endpoint, "unix:///flag.sock");
        assert_eq!(parse(&args("pods"), env).unwrap().endpoint, "unix:///env.sock");
        assert_eq!(parse(&args("pods"), Some(String::new())).unwrap().endpoint, DEFAULT_ENDPOINT);
        assert_eq!(ok("-r /x.sock pods").endpoint, "/x.sock");
        assert_eq!(ok("pods --runtime-endpoint /y.sock").endpoint, "/y.sock");
    }

    #[test]
    fn flags_in_any_position() {
        let inv = ok("--timeout=2s ps -o json --all");
        assert_eq!((inv.timeout, inv.output, inv.all), (Duration::from_secs(2), Output::Json, true));
        assert_eq!(ok("-o json pods").output, Output::Json);
        assert_eq!(ok("pods --output=json").output, Output::Json);
        assert_eq!(ok("--timeout 1m30s version").timeout, Duration::from_secs(90));
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(ok("inspectp p1").command, Command::Inspectp("p1".into()));
        assert_eq!(ok("stopp a b").command, Command::Stopp(vec!["a".into(), "b".into()]));
        assert_eq!(ok("rmp -a").command, Command::Rmp(vec![]));
        assert!(ok("rmp -a").all);
        assert_eq!(ok("rmp x").command, Command::Rmp(vec!["x".into()]));
        assert_eq!(ok("--help").command, Command::Help);
        assert_eq!(ok("help").command, Command::Help);
        assert_eq!(ok("pods -h").command, Command::Help);
    }

    #[test]
    fn exec_takes_everything_after_the_id() {
        let want = |cmd: &[&str]| Command::Exec {
            id: "c1".into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(ok("exec c1 -- echo hi").command, want(&["echo", "hi"]));
        assert_eq!(ok("exec c1 sh -c -a").command, want(&["sh", "-c", "-a"]));
        assert_eq!(ok("--timeout=3s exec c1 -- ls -o json").command, want(&["ls", "-o", "json"]));
        assert_eq!(ok("exec c1 -- -- x").command, want(&["--", "x"]));
        assert!(err("exec c1").contains("usage: exec"));
        assert!(err("exec c1 --").contains("usage: exec"));
        assert!(err("exec").contains("usage: exec"));
    }

    #[test]
    fn mistakes_are_explained() {
        assert_eq!(err(""), "no command given");
        assert!(err("frob").contains("unknown command \"frob\""));
        assert!(err("pods --bogus").contains("unknown flag --bogus"));
        assert!(err("pods -o yaml").contains("unknown output format \"yaml\""));
        assert!(err("pods -o").contains("needs a value"));
        assert!(err("pods --timeout=soon").contains("--timeout"));
        assert!(err("pods --timeout=0s").contains("positive"));
        assert!(err("pods extra").contains("takes no arguments"));
        assert!(err("inspect").contains("exactly one container ID"));
        assert!(err("inspect a b").contains("exactly one"));
        assert!(err("stopp").contains("at least one"));
        assert!(err("rmp").contains("or -a"));
        assert!(err("rmp -a x").contains("not both"));
        assert!(err("info -o json").contains("-o is not supported by info"));
        assert!(err("pods -a").contains("-a is not supported by pods"));
    }
}

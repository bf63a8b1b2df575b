//! Entry point: dispatch to a subcommand (`rkubelet cri ...`) or run the agent.
//!
//! Exit codes follow the upstream kubelet: 0 after `--help`/`--version`, 1 for every error
//! (bad flag, bad config file, invalid configuration, agent failure).

use crate::config::{self, Config, VersionRequest};

/// Run rkubelet with its command line; returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let rest = args.get(1..).unwrap_or_default();
    match rest.first().map(String::as_str) {
        Some("cri") => cri(rest.get(1..).unwrap_or_default()),
        _ => agent(rest),
    }
}

/// `rkubelet cri version|pods|ps|images`: CRI diagnostics (another module provides them).
fn cri(args: &[String]) -> i32 {
    crate::cri::cmd::main(args)
}

fn agent(args: &[String]) -> i32 {
    let cmd = match config::parse_command_line(args) {
        Ok(cmd) => cmd,
        Err(e) => return fail(&e),
    };
    if cmd.help {
        print!("{}", config::help::render_help());
        return 0;
    }
    if let Some(request) = cmd.version {
        // kubeadm parses this line and nothing else from standard output.
        println!("Kubernetes {}", crate::version::KUBERNETES);
        match request {
            VersionRequest::Plain => eprintln!("rkubelet {}", crate::version::RKUBELET),
            VersionRequest::Raw => println!("rkubelet {} ({})", crate::version::RKUBELET, crate::version::user_agent()),
        }
        return 0;
    }
    let loaded = match config::load_command_line(&cmd) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e),
    };
    crate::logging::init(loaded.config.kubelet.logging.verbosity);
    for warning in &loaded.warnings {
        log::warn!("{warning}");
    }
    if let Ok(effective) = serde_json::to_string(&loaded.config.kubelet) {
        log::debug!("effective KubeletConfiguration: {effective}");
    }
    run_agent(loaded.config)
}

fn fail(e: &config::ConfigError) -> i32 {
    eprintln!("Error: {e}");
    1
}

fn run_agent(config: Config) -> i32 {
    crate::agent::run(config)
}

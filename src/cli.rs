//! Entry point: dispatch to a subcommand (`rkubelet cri ...`) or run the agent.

/// Run rkubelet with its command line; returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    crate::logging::init(0);
    match args.get(1).map(String::as_str) {
        Some("--version") => {
            println!("Kubernetes {} (rkubelet {})", crate::version::KUBERNETES, crate::version::RKUBELET);
            0
        }
        _ => {
            eprintln!("rkubelet: the agent is not written yet");
            1
        }
    }
}

//! The guard against impossible container transitions (upstream's
//! `checkContainerStateTransition`).
#![forbid(unsafe_code)]

use crate::api::core::{ContainerStatus, PodSpec, PodStatus};

use super::phase::container_should_restart;

/// A container whose old status is terminated and will not be restarted must not come back
/// as non-terminated; `Err` names the first that does.
pub(super) fn check_transitions(old: &PodStatus, new: &PodStatus, spec: &PodSpec) -> Result<(), String> {
    // Pods that restart everything (policy Always, or a RestartAllContainers rule) may.
    let restart_all = spec
        .init_containers
        .iter()
        .chain(&spec.containers)
        .flat_map(|c| &c.restart_policy_rules)
        .any(|r| r.action == "RestartAllContainers");
    if matches!(spec.restart_policy.as_deref(), None | Some("Always")) || restart_all {
        return Ok(());
    }
    let groups = [
        (&old.container_statuses, &new.container_statuses, &spec.containers),
        (&old.init_container_statuses, &new.init_container_statuses, &spec.init_containers),
    ];
    for (old_list, new_list, specs) in groups {
        for o in old_list {
            let Some(t) = o.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
                continue;
            };
            let spec_c = specs.iter().find(|c| c.name == o.name);
            if spec_c
                .is_some_and(|c| c.is_restartable_init() || container_should_restart(c, spec, t.exit_code))
            {
                continue;
            }
            if new_list.iter().any(|n: &ContainerStatus| n.name == o.name && !is_terminated(n)) {
                return Err(o.name.clone());
            }
        }
    }
    Ok(())
}

fn is_terminated(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.terminated.is_some())
}

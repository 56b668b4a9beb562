//! The cluster as a picture: the voting members on a ring, joined to one another (they form the
//! raft group), and the late members outside it as proxies, each with its name. SVG built with
//! Yew's elements, so names are text, never markup.

use std::f64::consts::PI;

use shared::inspect::{Report, Role};
use yew::prelude::*;

const W: f64 = 360.0;
const H: f64 = 260.0;
const RING: f64 = 80.0;

/// Where each member goes: voting members on the ring, the rest along the bottom.
fn places(r: &Report) -> Vec<(f64, f64)> {
    let voting = r
        .members
        .iter()
        .filter(|m| m.role != Role::Proxy)
        .count()
        .max(1);
    let proxies = r.members.len() - r.members.iter().filter(|m| m.role != Role::Proxy).count();
    let (cx, cy) = (W / 2.0, 110.0);
    let mut v = 0usize;
    let mut p = 0usize;
    r.members
        .iter()
        .map(|m| {
            if m.role == Role::Proxy {
                p += 1;
                let step = W / (proxies as f64 + 1.0);
                (step * p as f64, H - 22.0)
            } else {
                let angle = -PI / 2.0 + 2.0 * PI * v as f64 / voting as f64;
                v += 1;
                if voting == 1 {
                    (cx, cy)
                } else {
                    (cx + RING * angle.cos(), cy + RING * angle.sin())
                }
            }
        })
        .collect()
}

pub fn picture(r: &Report) -> Html {
    if r.members.is_empty() {
        return html! {};
    }
    let at = places(r);
    let voting: Vec<usize> = (0..r.members.len())
        .filter(|i| r.members[*i].role != Role::Proxy)
        .collect();
    let mut links = Vec::new();
    for (n, a) in voting.iter().enumerate() {
        for b in &voting[n + 1..] {
            links.push((at[*a], at[*b]));
        }
    }
    let proxies = r.members.iter().filter(|m| m.role == Role::Proxy).count();
    let label = format!(
        "Cluster picture: {} voting member(s), {proxies} proxy member(s)",
        voting.len()
    );
    html! {
        <svg class="picture" role="img" aria-label={label} viewBox={format!("0 0 {W} {H}")} width={W.to_string()} height={H.to_string()}>
            { for links.iter().map(|((x1, y1), (x2, y2))| html! {
                <line class="peer" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
            }) }
            { for r.members.iter().zip(&at).map(|(m, (x, y))| {
                let who = m.names.first().cloned().unwrap_or_else(|| m.id.clone());
                let (class, role) = match m.role {
                    Role::Voting => ("member voting", "voting"),
                    Role::Proxy => ("member proxy", "proxy"),
                    Role::Unknown => ("member unknown", "role unknown"),
                };
                html! {
                    <g class={class} data-role={role}>
                        <title>{ format!("{who} ({role}): {}", m.peer_urls.join(", ")) }</title>
                        <circle cx={x.to_string()} cy={y.to_string()} r="18" />
                        <text x={x.to_string()} y={(y + 34.0).to_string()} text-anchor="middle">{ who }</text>
                    </g>
                }
            }) }
        </svg>
    }
}

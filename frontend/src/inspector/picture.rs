//! The cluster as a picture: one seat per member the size calls for on a ring, each taken by a
//! voting member or still open, the voters joined to one another (they form the raft group),
//! and the late members below it as proxies, each with its name. SVG built with Yew's elements,
//! so names are text, never markup.

use std::f64::consts::PI;

use shared::inspect::{Report, Role, SizeInfo};
use yew::prelude::*;

const W: f64 = 360.0;
/// Tall enough for the ring and its labels; proxies add a row below.
const H_RING: f64 = 230.0;
const H_PROXIES: f64 = 290.0;
const RING: f64 = 80.0;
/// Open seats drawn at most: a size beyond any real cluster is not drawn seat by seat.
const MAX_SEATS: usize = 15;

/// A point on the ring for seat `i` of `n`.
fn seat(i: usize, n: usize) -> (f64, f64) {
    let (cx, cy) = (W / 2.0, 110.0);
    if n <= 1 {
        return (cx, cy);
    }
    let angle = -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
    (cx + RING * angle.cos(), cy + RING * angle.sin())
}

pub fn picture(r: &Report) -> Html {
    let voters: Vec<usize> = (0..r.members.len())
        .filter(|i| r.members[*i].role != Role::Proxy)
        .collect();
    let proxies: Vec<usize> = (0..r.members.len())
        .filter(|i| r.members[*i].role == Role::Proxy)
        .collect();
    let size = match r.size {
        SizeInfo::Known(n) => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_SEATS),
        _ => 0,
    };
    let seats = voters.len().max(size);
    if seats == 0 && proxies.is_empty() {
        return html! {};
    }
    let open = seats - voters.len();
    let mut links = Vec::new();
    for (n, _) in voters.iter().enumerate() {
        for m in n + 1..voters.len() {
            links.push((seat(n, seats), seat(m, seats)));
        }
    }
    let h = if proxies.is_empty() {
        H_RING
    } else {
        H_PROXIES
    };
    let label = format!(
        "Cluster picture: {} voting member(s), {open} open seat(s), {} proxy member(s)",
        voters.len(),
        proxies.len()
    );
    let node = |i: usize, (x, y): (f64, f64)| {
        let m = &r.members[i];
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
    };
    let step = W / (proxies.len() as f64 + 1.0);
    html! {
        <svg class="picture" role="img" aria-label={label} viewBox={format!("0 0 {W} {h}")} width={W.to_string()} height={h.to_string()}>
            { for links.iter().map(|((x1, y1), (x2, y2))| html! {
                <line class="peer" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
            }) }
            { for (voters.len()..seats).map(|s| {
                let (x, y) = seat(s, seats);
                html! {
                    <g class="seat" data-role="open">
                        <title>{ "an open seat: waiting for a member to register" }</title>
                        <circle cx={x.to_string()} cy={y.to_string()} r="18" />
                        <text x={x.to_string()} y={(y + 34.0).to_string()} text-anchor="middle">{ "waiting" }</text>
                    </g>
                }
            }) }
            { for voters.iter().enumerate().map(|(n, i)| node(*i, seat(n, seats))) }
            { for proxies.iter().enumerate().map(|(n, i)| node(*i, (step * (n + 1) as f64, H_PROXIES - 40.0))) }
        </svg>
    }
}

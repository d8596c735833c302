//! Co-offending networks (共同犯罪团伙) for the link-analysis ground truth: groups of 3–8
//! persons who commit several cases together over the years and share phone numbers and
//! addresses, so a community detector over the case graph has something to find at known
//! places.
//!
//! Planted after the case flow, from a stream of its own: a group takes over existing
//! multi-suspect cases (whose suspects appear in no other case) and fills their suspect slots
//! with its members, who are the persons of those cases' first slots. The number of suspects,
//! every date, sentence and planted mark of those cases stay as they were, so every other
//! stream, export and truth file draws exactly as before; only the persons named in the
//! group's cases change (and persons left without a case are named in none). Members'
//! cases reach every department that handles them, so a member appears in several
//! departments' exports. `co-offending-groups.jsonl` names each group with its members
//! (`P…`), cases (`T…`), phones and addresses.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::cases::World;
use crate::util::stream;

/// File name of the co-offending ground truth.
pub const FILE: &str = "co-offending-groups.jsonl";

/// Random stream of the groups (the case streams are 1–6, dirty data 10–13, justice
/// administration 20–26).
const STREAM_GROUPS: u64 = 40;

/// One group per this many cases (at least one from [`MIN_CASES`] on).
const CASES_PER_GROUP: usize = 200;

/// No group is planted in a province of fewer cases.
pub const MIN_CASES: usize = 100;

/// One line of `co-offending-groups.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTruth {
    /// 1-based.
    pub group: usize,
    /// True person ids (`P000456`), as in `ground-truth.jsonl`.
    pub members: Vec<String>,
    /// True case ids (`T000123`), by 立案 date.
    pub cases: Vec<String>,
    /// The phone numbers members share.
    pub phones: Vec<String>,
    /// The addresses members share.
    pub addresses: Vec<String>,
}

/// A planted group: indexes into the world's persons and cases.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub members: Vec<usize>,
    pub cases: Vec<usize>,
    pub phones: Vec<String>,
    pub addresses: Vec<String>,
}

/// Plants `max(1, cases / 200)` groups (none under [`MIN_CASES`] cases).
pub(crate) fn plant(world: &mut World, seed: u64) -> Vec<Group> {
    if world.cases.len() < MIN_CASES {
        return Vec::new();
    }
    let mut rng = stream(seed, STREAM_GROUPS);
    let wanted = (world.cases.len() / CASES_PER_GROUP).max(1);
    // Candidate cases: two or three suspects, each of whom appears in this case alone.
    let mut candidates: Vec<usize> = (0..world.cases.len())
        .filter(|&ci| {
            let c = &world.cases[ci];
            c.defendants.len() >= 2
                && c.defendants
                    .iter()
                    .all(|d| world.persons[d.person].cases == 1)
        })
        .collect();
    candidates.shuffle(&mut rng);
    let mut phones_used: HashSet<String> = world.persons.iter().map(|p| p.phone.clone()).collect();
    let mut addresses_used: HashSet<String> =
        world.persons.iter().map(|p| p.address.clone()).collect();
    let mut groups = Vec::with_capacity(wanted);
    while groups.len() < wanted {
        let m = rng.gen_range(3..=8usize);
        // Take cases until their first slots give m members and the windows below wrap round
        // the members once (every member in at least two cases when m allows).
        let mut cases = Vec::new();
        let mut slots = 0usize;
        while !candidates.is_empty() && (cases.len() < m.min(3) || slots < m + cases.len()) {
            let Some(ci) = candidates.pop() else { break };
            slots += world.cases[ci].defendants.len();
            cases.push(ci);
        }
        // Members are the first-slot persons of the cases taken, then the second slots.
        let mut members: Vec<usize> = Vec::with_capacity(m);
        for slot in 0..3 {
            for &ci in &cases {
                if let Some(d) = world.cases[ci].defendants.get(slot) {
                    if members.len() < m && !members.contains(&d.person) {
                        members.push(d.person);
                    }
                }
            }
        }
        if members.len() < 3 {
            break;
        }
        let m = members.len();
        cases.sort_by_key(|&ci| (world.cases[ci].filed, ci));
        // Overlapping windows round the members: case k takes members from `start` on, and
        // the next case starts at this one's last member, so the group is one chain.
        let mut start = 0usize;
        for &ci in &cases {
            let old_first = world.persons[world.cases[ci].defendants[0].person].masked();
            let n = world.cases[ci].defendants.len();
            for (s, d) in world.cases[ci].defendants.iter_mut().enumerate() {
                d.person = members[(start + s) % m];
            }
            start = (start + n - 1) % m;
            let new_first = world.persons[world.cases[ci].defendants[0].person].masked();
            let case = &mut world.cases[ci];
            case.facts = case.facts.replacen(&old_first, &new_first, 1);
        }
        // Shared identifiers: one or two phones and addresses, each member holding at least
        // one of them, so the group is linked even where its cases are not.
        let county = world.persons[members[0]].residence;
        let phones: Vec<String> = (0..rng.gen_range(1..=2))
            .map(|_| fresh(&mut phones_used, || phone(&mut rng)))
            .collect();
        let addresses: Vec<String> = (0..rng.gen_range(1..=2))
            .map(|_| {
                fresh(&mut addresses_used, || {
                    address(&mut rng, &world.province.counties[county].address_prefix)
                })
            })
            .collect();
        for (k, &pid) in members.iter().enumerate() {
            let p = &mut world.persons[pid];
            match rng.gen_range(0..3) {
                0 => p.phone = phones[k % phones.len()].clone(),
                1 => p.address = addresses[k % addresses.len()].clone(),
                _ => {
                    p.phone = phones[k % phones.len()].clone();
                    p.address = addresses[k % addresses.len()].clone();
                }
            }
        }
        // A phone found in the case texts: the police write down the number the group used.
        for &ci in &cases {
            let phone = &phones[rng.gen_range(0..phones.len())];
            let case = &mut world.cases[ci];
            case.facts
                .push_str(&format!("经查，作案人员使用手机号码{phone}相互联系。"));
        }
        groups.push(Group {
            members,
            cases,
            phones,
            addresses,
        });
    }
    // Case counts follow the new slots: a member is in all his group's cases, a displaced
    // person in none.
    for p in world.persons.iter_mut() {
        p.cases = 0;
    }
    for ci in 0..world.cases.len() {
        for di in 0..world.cases[ci].defendants.len() {
            let pid = world.cases[ci].defendants[di].person;
            let p = &mut world.persons[pid];
            p.cases = p.cases.saturating_add(1);
        }
    }
    groups
}

fn fresh(used: &mut HashSet<String>, mut make: impl FnMut() -> String) -> String {
    loop {
        let s = make();
        if used.insert(s.clone()) {
            return s;
        }
    }
}

fn phone(rng: &mut impl Rng) -> String {
    let mut s = String::from(["139", "186", "177", "152"][rng.gen_range(0..4)]);
    for _ in 0..8 {
        s.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    s
}

/// A flat address no one else in the province has: the group's 窝点.
fn address(rng: &mut impl Rng, prefix: &str) -> String {
    format!(
        "{prefix}{}路{}号{}栋{}室",
        ["兴业", "富源", "金穗", "安居"][rng.gen_range(0..4)],
        rng.gen_range(1..600),
        rng.gen_range(1..40),
        rng.gen_range(1..33) * 100 + rng.gen_range(1..9)
    )
}

/// The truth rows of the planted groups.
pub(crate) fn truth(groups: &[Group]) -> Vec<GroupTruth> {
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| GroupTruth {
            group: i + 1,
            members: g
                .members
                .iter()
                .map(|&p| crate::truth::person_id(p))
                .collect(),
            cases: g.cases.iter().map(|&c| crate::truth::case_id(c)).collect(),
            phones: g.phones.clone(),
            addresses: g.addresses.clone(),
        })
        .collect()
}

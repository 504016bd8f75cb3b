//! What changed between two versions of a plan, for the inspector's "every version with
//! what changed" (docs/DOMAIN.md, "The reports").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::completeness::ServiceField;
use crate::content::{PlanContent, Service};

/// One difference between two versions. Services and life areas are named by their
/// `what` / area name, as the plan itself names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    Provider,
    ClientName,
    KeyWorker,
    DrawnUpDate,
    AdoptedDate,
    ServiceStartDate,
    FollowUp,
    ServiceAdded {
        what: String,
    },
    ServiceRemoved {
        what: String,
    },
    ServiceChanged {
        what: String,
        fields: Vec<ServiceField>,
    },
    Goals,
    Participation,
    Participants,
    Collaboration,
    ClinicalOrders,
    LifeAreaAdded {
        area: String,
    },
    LifeAreaRemoved {
        area: String,
    },
    LifeAreaChanged {
        area: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Provider => f.write_str("provider changed"),
            Change::ClientName => f.write_str("client's name changed"),
            Change::KeyWorker => f.write_str("key worker changed"),
            Change::DrawnUpDate => f.write_str("date drawn up changed"),
            Change::AdoptedDate => f.write_str("date adopted changed"),
            Change::ServiceStartDate => f.write_str("service start date changed"),
            Change::FollowUp => f.write_str("follow-up changed"),
            Change::ServiceAdded { what } => write!(f, "service added: {what}"),
            Change::ServiceRemoved { what } => write!(f, "service removed: {what}"),
            Change::ServiceChanged { what, fields } => {
                let names: Vec<_> = fields.iter().map(|f| f.as_str()).collect();
                write!(f, "service {what} changed: {}", names.join(", "))
            }
            Change::Goals => f.write_str("goals changed"),
            Change::Participation => f.write_str("participation changed"),
            Change::Participants => f.write_str("participants changed"),
            Change::Collaboration => f.write_str("collaboration changed"),
            Change::ClinicalOrders => f.write_str("clinical order references changed"),
            Change::LifeAreaAdded { area } => write!(f, "life area added: {area}"),
            Change::LifeAreaRemoved { area } => write!(f, "life area removed: {area}"),
            Change::LifeAreaChanged { area } => write!(f, "life area changed: {area}"),
        }
    }
}

fn service_fields(old: &Service, new: &Service) -> Vec<ServiceField> {
    let mut fields = Vec::new();
    if old.when != new.when {
        fields.push(ServiceField::When);
    }
    if old.how != new.how {
        fields.push(ServiceField::How);
    }
    if old.who != new.who {
        fields.push(ServiceField::Who);
    }
    if old.goal != new.goal {
        fields.push(ServiceField::Goal);
    }
    fields
}

/// Pairs items of `old` and `new` by key, in order; returns (removed, pairs, added).
fn pair<'a, T>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, Vec<(&'a T, &'a T)>, Vec<&'a T>) {
    let mut taken = vec![false; old.len()];
    let mut pairs = Vec::new();
    let mut added = Vec::new();
    for n in new {
        let found = (0..old.len()).find(|&i| !taken[i] && key(&old[i]) == key(n));
        match found {
            Some(i) => {
                taken[i] = true;
                pairs.push((&old[i], n));
            }
            None => added.push(n),
        }
    }
    let removed = old
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(o, _)| o)
        .collect();
    (removed, pairs, added)
}

/// What changed from `old` to `new`, in the order of the plan's contents.
pub fn changes(old: &PlanContent, new: &PlanContent) -> Vec<Change> {
    let mut out = Vec::new();
    let mut flag = |differs: bool, change: Change| {
        if differs {
            out.push(change);
        }
    };
    flag(old.provider != new.provider, Change::Provider);
    flag(old.client.name != new.client.name, Change::ClientName);
    flag(old.key_worker != new.key_worker, Change::KeyWorker);
    flag(old.drawn_up_on != new.drawn_up_on, Change::DrawnUpDate);
    flag(old.adopted_on != new.adopted_on, Change::AdoptedDate);
    flag(
        old.service_starts_on != new.service_starts_on,
        Change::ServiceStartDate,
    );
    flag(old.follow_up != new.follow_up, Change::FollowUp);

    let (removed, pairs, added) = pair(&old.services, &new.services, |s| s.what.as_str());
    for s in removed {
        out.push(Change::ServiceRemoved {
            what: s.what.clone(),
        });
    }
    for (o, n) in pairs {
        let fields = service_fields(o, n);
        if !fields.is_empty() {
            out.push(Change::ServiceChanged {
                what: n.what.clone(),
                fields,
            });
        }
    }
    for s in added {
        out.push(Change::ServiceAdded {
            what: s.what.clone(),
        });
    }

    let mut flag = |differs: bool, change: Change| {
        if differs {
            out.push(change);
        }
    };
    flag(old.goals != new.goals, Change::Goals);
    flag(
        old.participation != new.participation,
        Change::Participation,
    );
    flag(old.participants != new.participants, Change::Participants);
    flag(
        old.collaboration != new.collaboration,
        Change::Collaboration,
    );
    flag(
        old.clinical_orders != new.clinical_orders,
        Change::ClinicalOrders,
    );

    let (removed, pairs, added) = pair(&old.life_areas, &new.life_areas, |a| a.area.as_str());
    for a in removed {
        out.push(Change::LifeAreaRemoved {
            area: a.area.clone(),
        });
    }
    for (o, n) in pairs {
        if o != n {
            out.push(Change::LifeAreaChanged {
                area: n.area.clone(),
            });
        }
    }
    for a in added {
        out.push(Change::LifeAreaAdded {
            area: a.area.clone(),
        });
    }
    out
}

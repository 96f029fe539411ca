//! Three-way merge of a queued edit (base → desired) onto the provider's current value.
//!
//! Settings are compared as JSON trees: objects are walked field by field (map entries are
//! fields too, so "speed dial code 5" or "directory entry Bob" is its own leaf), anything
//! else (numbers, strings, lists, null) is a leaf. For each leaf the user changed (desired
//! differs from base):
//! - the provider still has the base value → take the user's value;
//! - the provider already has the user's value → nothing to do (an earlier attempt landed);
//! - the provider has a value this edit sent earlier without learning the outcome (the
//!   answer was lost) → still ours: take the user's latest value;
//! - the provider has a third value → a conflict on that leaf;
//! - except: an entry of a keyed collection that this edit was replacing at an earlier
//!   attempt (outcome unknown) and that the provider now lacks is ours too — a provider
//!   without "modify" for such items (Xsi's personal directory) replaces by removing and
//!   adding, and a lost answer can leave it between the two.
//!
//! Leaves the user did not change keep the provider's current value, so an edit never
//! overwrites what someone else changed elsewhere.

use crate::domain::settings::Setting;
use serde_json::{Map, Value};

/// The outcome of merging an edit onto the provider's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The provider already holds everything the user asked for.
    AlreadyApplied,
    /// Send this value (the provider's value with the user's changes on top).
    Apply(Box<Setting>),
    /// The provider changed some of the same leaves to other values.
    Conflict {
        /// The leaves in conflict, as `/`-separated paths (`forward_to`, `entries/Bob`).
        fields: Vec<String>,
    },
}

/// Why two values could not be merged at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The three values are not of the same setting.
    #[error("the values belong to different settings")]
    KeyMismatch,
    /// A merged value did not form a valid setting again (a bug or corrupt data).
    #[error("the merged value is not a valid setting: {0}")]
    Invalid(String),
}

/// Merges the change `base → desired` onto `current`.
pub fn three_way(
    base: &Setting,
    desired: &Setting,
    current: &Setting,
) -> Result<MergeOutcome, MergeError> {
    three_way_with_sent(base, &[], desired, current)
}

/// Merges the change `base → desired` onto `current`, where `sent` are the values this
/// edit wanted at earlier attempts whose outcome is not known (the answer was lost).
pub fn three_way_with_sent(
    base: &Setting,
    sent: &[Setting],
    desired: &Setting,
    current: &Setting,
) -> Result<MergeOutcome, MergeError> {
    if base.key() != desired.key()
        || base.key() != current.key()
        || sent.iter().any(|s| s.key() != base.key())
    {
        return Err(MergeError::KeyMismatch);
    }
    let to_json =
        |s: &Setting| serde_json::to_value(s).map_err(|e| MergeError::Invalid(e.to_string()));
    let (base_json, desired_json, current_json) =
        (to_json(base)?, to_json(desired)?, to_json(current)?);
    let sent_json = sent.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    let ours: Vec<&Value> = sent_json.iter().map(|v| &v["value"]).collect();
    let mut merged = current_json.clone();
    let mut conflicts = Vec::new();
    merge_value(
        &base_json["value"],
        &ours,
        &desired_json["value"],
        &current_json["value"],
        &mut merged["value"],
        &mut String::new(),
        &mut conflicts,
    );
    if !conflicts.is_empty() {
        return Ok(MergeOutcome::Conflict { fields: conflicts });
    }
    if merged == current_json {
        return Ok(MergeOutcome::AlreadyApplied);
    }
    let setting: Setting =
        serde_json::from_value(merged).map_err(|e| MergeError::Invalid(e.to_string()))?;
    Ok(MergeOutcome::Apply(Box::new(setting)))
}

/// Which leaves differ between two values of the same setting (for showing a diff).
pub fn changed_fields(before: &Setting, after: &Setting) -> Vec<String> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(before), serde_json::to_value(after)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    diff_paths(&a["value"], &b["value"], &mut String::new(), &mut out);
    out
}

fn diff_paths(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in union_keys(x, y) {
                let len = push(path, &key);
                diff_paths(
                    x.get(&key).unwrap_or(&Value::Null),
                    y.get(&key).unwrap_or(&Value::Null),
                    path,
                    out,
                );
                path.truncate(len);
            }
        }
        _ if a != b => out.push(path.clone()),
        _ => {}
    }
}

fn union_keys(a: &Map<String, Value>, b: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

fn push(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('/');
    }
    path.push_str(key);
    len
}

/// An absent map entry and `null` mean the same: "not there".
fn field<'a>(map: Option<&'a Map<String, Value>>, key: &str) -> &'a Value {
    map.and_then(|m| m.get(key)).unwrap_or(&Value::Null)
}

#[allow(clippy::too_many_arguments)]
fn merge_value(
    base: &Value,
    ours: &[&Value],
    desired: &Value,
    current: &Value,
    merged: &mut Value,
    path: &mut String,
    conflicts: &mut Vec<String>,
) {
    // Earlier intents count only where they differed from the base (elsewhere they are
    // copies of the provider's value, not something this edit asked for).
    let ours: Vec<&Value> = ours.iter().copied().filter(|o| *o != base).collect();
    let ours = ours.as_slice();
    if base == desired && ours.is_empty() {
        return; // the user did not touch this subtree: keep the provider's value
    }
    if let (Value::Object(b), Value::Object(d), Value::Object(c)) = (base, desired, current) {
        // The user changed something inside an object that still exists everywhere: merge
        // field by field (entry by entry for keyed collections).
        let (b, d, c) = (Some(b), Some(d), Some(c));
        let mut keys: Vec<String> = Vec::new();
        for m in [b, d, c].into_iter().flatten() {
            keys.extend(m.keys().cloned());
        }
        keys.sort();
        keys.dedup();
        for key in keys {
            let len = push(path, &key);
            let (bv, dv, cv) = (field(b, &key), field(d, &key), field(c, &key));
            let ov: Vec<&Value> = ours.iter().map(|o| field(o.as_object(), &key)).collect();
            // Struct fields are always serialised (None as null); a key missing from any of
            // the three objects is therefore an entry of a keyed collection.
            let is_entry = [b, d, c]
                .into_iter()
                .any(|m| m.is_some_and(|m| !m.contains_key(&key)));
            // Half of our own replacement (removed, not yet added again): ours.
            let replacing = is_entry
                && cv.is_null()
                && !bv.is_null()
                && ov.iter().any(|o| !o.is_null() && *o != bv);
            if replacing {
                if let Value::Object(target) = merged {
                    if dv.is_null() {
                        target.remove(&key);
                    } else {
                        target.insert(key.clone(), dv.clone());
                    }
                }
                path.truncate(len);
                continue;
            }
            if let Value::Object(target) = merged {
                let mut slot = target.get(&key).cloned().unwrap_or(Value::Null);
                merge_value(bv, &ov, dv, cv, &mut slot, path, conflicts);
                if slot.is_null() && is_entry {
                    target.remove(&key);
                } else {
                    target.insert(key.clone(), slot);
                }
            }
            path.truncate(len);
        }
        return;
    }
    if current == base || ours.contains(&current) {
        *merged = desired.clone();
    } else if current == desired {
        // already there
    } else {
        conflicts.push(path.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::*;
    use crate::domain::values::*;

    fn dest(s: &str) -> Destination {
        Destination::parse(s).unwrap()
    }

    fn cfa(active: bool, to: Option<&str>) -> Setting {
        Setting::CallForwardingAlways(CallForwardingAlways {
            active,
            forward_to: to.map(dest),
            ring_splash: false,
        })
    }

    fn directory(entries: &[(&str, &str)]) -> Setting {
        Setting::PersonalDirectory(PersonalDirectory {
            entries: entries
                .iter()
                .map(|(n, v)| (n.to_string(), dest(v)))
                .collect(),
        })
    }

    #[test]
    fn untouched_provider_takes_the_edit() {
        let base = cfa(false, None);
        let desired = cfa(true, Some("2145550001"));
        assert_eq!(
            three_way(&base, &desired, &base).unwrap(),
            MergeOutcome::Apply(Box::new(desired.clone()))
        );
    }

    #[test]
    fn landed_edit_is_recognised() {
        let base = cfa(false, None);
        let desired = cfa(true, Some("2145550001"));
        assert_eq!(
            three_way(&base, &desired, &desired).unwrap(),
            MergeOutcome::AlreadyApplied
        );
    }

    #[test]
    fn concurrent_change_of_the_same_field_conflicts() {
        let base = cfa(false, None);
        let desired = cfa(true, Some("2145550001"));
        let theirs = cfa(true, Some("2145550002"));
        match three_way(&base, &desired, &theirs).unwrap() {
            MergeOutcome::Conflict { fields } => assert_eq!(fields, vec!["forward_to".to_string()]),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn changes_to_other_fields_are_kept() {
        let base = Setting::CallForwardingAlways(CallForwardingAlways::default());
        let desired = Setting::CallForwardingAlways(CallForwardingAlways {
            ring_splash: true,
            ..Default::default()
        });
        let theirs = cfa(true, Some("2145550002"));
        let expected = Setting::CallForwardingAlways(CallForwardingAlways {
            active: true,
            forward_to: Some(dest("2145550002")),
            ring_splash: true,
        });
        assert_eq!(
            three_way(&base, &desired, &theirs).unwrap(),
            MergeOutcome::Apply(Box::new(expected))
        );
    }

    #[test]
    fn map_entries_merge_one_by_one() {
        let base = directory(&[("Alex", "2001"), ("Bo", "2002")]);
        let desired = directory(&[("Alex", "2001"), ("Cy", "2003")]); // removed Bo, added Cy
        let theirs = directory(&[("Alex", "2001"), ("Bo", "2002"), ("Di", "2004")]); // added Di
        let expected = directory(&[("Alex", "2001"), ("Cy", "2003"), ("Di", "2004")]);
        assert_eq!(
            three_way(&base, &desired, &theirs).unwrap(),
            MergeOutcome::Apply(Box::new(expected))
        );
    }

    #[test]
    fn removing_an_entry_someone_changed_conflicts() {
        let base = directory(&[("Bo", "2002")]);
        let desired = directory(&[]);
        let theirs = directory(&[("Bo", "2099")]);
        assert!(matches!(
            three_way(&base, &desired, &theirs).unwrap(),
            MergeOutcome::Conflict { .. }
        ));
    }

    #[test]
    fn nested_entry_fields_merge() {
        let entry = |n: &str, d: Option<&str>| SpeedDialEntry {
            number: dest(n),
            description: d.map(|d| Description::parse(d).unwrap()),
        };
        let sd = |e: Vec<(&str, SpeedDialEntry)>| {
            Setting::SpeedDial8(SpeedDial8 {
                entries: e.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            })
        };
        let base = sd(vec![("2", entry("1001", None))]);
        let desired = sd(vec![("2", entry("1001", Some("Desk")))]);
        let theirs = sd(vec![("2", entry("1001", None)), ("3", entry("1003", None))]);
        let expected = sd(vec![
            ("2", entry("1001", Some("Desk"))),
            ("3", entry("1003", None)),
        ]);
        assert_eq!(
            three_way(&base, &desired, &theirs).unwrap(),
            MergeOutcome::Apply(Box::new(expected))
        );
    }

    #[test]
    fn whole_object_entries_are_removed_and_added() {
        let entry = |n: &str| SpeedDialEntry {
            number: dest(n),
            description: None,
        };
        let sd = |e: Vec<(&str, SpeedDialEntry)>| {
            Setting::SpeedDial100(SpeedDial100 {
                prefix: Some("#".into()),
                entries: e.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            })
        };
        let base = sd(vec![("3", entry("1003")), ("4", entry("1004"))]);
        let desired = sd(vec![("4", entry("1004")), ("5", entry("1005"))]);
        let theirs = sd(vec![
            ("3", entry("1003")),
            ("4", entry("1004")),
            ("9", entry("1009")),
        ]);
        let expected = sd(vec![
            ("4", entry("1004")),
            ("5", entry("1005")),
            ("9", entry("1009")),
        ]);
        assert_eq!(
            three_way(&base, &desired, &theirs).unwrap(),
            MergeOutcome::Apply(Box::new(expected))
        );
        // Removing an entry someone else changed, or changing one someone else removed:
        // conflicts.
        let changed = sd(vec![("3", entry("1033")), ("4", entry("1004"))]);
        assert!(matches!(
            three_way(&base, &desired, &changed).unwrap(),
            MergeOutcome::Conflict { .. }
        ));
        let edited = sd(vec![
            (
                "3",
                SpeedDialEntry {
                    number: dest("1003"),
                    description: Some(Description::parse("Desk").unwrap()),
                },
            ),
            ("4", entry("1004")),
        ]);
        let removed = sd(vec![("4", entry("1004"))]);
        assert!(matches!(
            three_way(&base, &edited, &removed).unwrap(),
            MergeOutcome::Conflict { .. }
        ));
    }

    #[test]
    fn an_entry_we_were_replacing_found_removed_is_ours() {
        // Xsi replaces a personal-directory entry by DELETE then POST; an attempt whose
        // answer was lost may have done only the DELETE.
        let base = directory(&[("Bo", "2001"), ("Al", "2002")]);
        let sent = directory(&[("Bo", "2003"), ("Al", "2002")]);
        let latest = directory(&[("Bo", "2004"), ("Al", "2002")]);
        let half_done = directory(&[("Al", "2002")]);
        assert_eq!(
            three_way_with_sent(&base, std::slice::from_ref(&sent), &latest, &half_done).unwrap(),
            MergeOutcome::Apply(Box::new(latest.clone()))
        );
        // Without an earlier attempt, an entry removed elsewhere while the user changed it
        // is still a conflict.
        assert_eq!(
            three_way(&base, &latest, &half_done).unwrap(),
            MergeOutcome::Conflict {
                fields: vec!["entries/Bo".into()]
            }
        );
        // Someone else's change to another entry meanwhile is kept.
        let half_done_and_theirs = directory(&[("Al", "2009")]);
        assert_eq!(
            three_way_with_sent(&base, &[sent], &latest, &half_done_and_theirs).unwrap(),
            MergeOutcome::Apply(Box::new(directory(&[("Bo", "2004"), ("Al", "2009")])))
        );
    }

    #[test]
    fn a_value_we_sent_earlier_is_ours_not_theirs() {
        let base = directory(&[]);
        let first = directory(&[("Bo", "2001")]); // sent; the answer was lost
        let latest = directory(&[("Bo", "2002")]);
        // The first attempt landed: the provider holds our earlier value.
        assert_eq!(
            three_way_with_sent(&base, std::slice::from_ref(&first), &latest, &first).unwrap(),
            MergeOutcome::Apply(Box::new(latest.clone()))
        );
        // Without remembering it, that looked like someone else's change.
        assert!(matches!(
            three_way(&base, &latest, &first).unwrap(),
            MergeOutcome::Conflict { .. }
        ));
        // Someone else's value is still a conflict.
        let theirs = directory(&[("Bo", "2999")]);
        assert!(matches!(
            three_way_with_sent(&base, &[first], &latest, &theirs).unwrap(),
            MergeOutcome::Conflict { .. }
        ));
    }

    #[test]
    fn mismatched_keys_are_refused() {
        let dnd = Setting::DoNotDisturb(DoNotDisturb::default());
        assert_eq!(
            three_way(&dnd, &cfa(false, None), &dnd),
            Err(MergeError::KeyMismatch)
        );
    }

    #[test]
    fn changed_fields_lists_leaves() {
        let fields = changed_fields(&cfa(false, None), &cfa(true, Some("2001")));
        assert_eq!(fields, vec!["active".to_string(), "forward_to".to_string()]);
    }
}

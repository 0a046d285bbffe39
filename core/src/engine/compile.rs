//! Compiling a validated pack and its knowledge into entries and one code index.

use super::codes::{CodeIndex, CodeSets};
use super::Engine;
use crate::error::{Error, Result};
use crate::knowledge::{KnowledgeTable, MatchMode};
use crate::pack::{Rule, RulePack};
use crate::templates::{self, Kernel};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Row id of entries that come from a template's selectors, not from a knowledge row.
pub(crate) const NO_ROW: u32 = u32::MAX;

/// One (rule, knowledge row, role) the code index can select.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub rule: u32,
    pub row: u32,
    pub role: u8,
    /// In force for times in `[from, to)`; `i64::MIN`/`i64::MAX` when unbounded.
    pub from: i64,
    pub to: i64,
}

impl Entry {
    pub fn bounded(&self) -> bool {
        self.from != i64::MIN || self.to != i64::MAX
    }
    pub fn in_force(&self, t: i64) -> bool {
        self.from <= t && t < self.to
    }
}

/// What a finding cites of a knowledge row, read once at compile time.
#[derive(Default)]
pub(crate) struct RowCitation {
    pub kp_id: String,
    pub item_name: Option<String>,
    pub basis: Option<String>,
}

/// A rule with its kernel and knowledge.
pub(crate) struct CompiledRule {
    pub kernel: Kernel,
    pub scene_mask: u8,
    pub from: i64,
    pub to: i64,
    /// Per knowledge row: its id (the `kp_id` column, else `<table>#<row>`), item name and basis.
    pub citations: Vec<RowCitation>,
}

impl CompiledRule {
    /// The citation of knowledge row `row`, if the finding came from one.
    pub fn citation(&self, row: u32) -> Option<&RowCitation> {
        if row == NO_ROW {
            None
        } else {
            self.citations.get(row as usize)
        }
    }
}

fn citations(t: &KnowledgeTable) -> Result<Vec<RowCitation>> {
    (0..t.len())
        .map(|r| {
            Ok(RowCitation {
                kp_id: match t.str("kp_id", r)? {
                    Some(s) => s.to_string(),
                    None => format!("{}#{r}", t.name()),
                },
                item_name: t.str("item_name", r)?.map(str::to_string),
                basis: t.str("basis", r)?.map(str::to_string),
            })
        })
        .collect()
}

pub(crate) fn build(pack: RulePack, given: Vec<KnowledgeTable>, payment: super::builder::Payment) -> Result<Engine> {
    let mut tables: BTreeMap<String, Arc<KnowledgeTable>> = BTreeMap::new();
    for (name, decl) in &pack.knowledge {
        if let Some(t) = &decl.inline {
            tables.insert(name.clone(), Arc::new(t.clone()));
        }
    }
    for t in given {
        if !pack.knowledge.contains_key(t.name()) {
            return Err(Error::Argument {
                argument: format!("knowledge table {:?}", t.name()),
                message: format!(
                    "the pack does not declare it; declared tables: {}",
                    pack.knowledge.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        tables.insert(t.name().to_string(), Arc::new(t));
    }
    for name in pack.knowledge.keys() {
        if !tables.contains_key(name) {
            return Err(Error::knowledge(
                name,
                None,
                None,
                "no rows: the pack declares it without inline rows and no table was given to the engine",
            ));
        }
    }
    let code_sets = CodeSets::compile(&pack.code_sets)?;
    let mut index = CodeIndex::default();
    let mut entries = Vec::new();
    let mut rules = Vec::with_capacity(pack.rules.len());
    let mut validity_cache: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for (ri, rule) in pack.rules.iter().enumerate() {
        let kt = rule.knowledge.as_ref().and_then(|k| tables.get(k)).cloned();
        let mode = rule.knowledge.as_ref().and_then(|k| pack.knowledge.get(k)).map_or(MatchMode::Exact, |d| d.mode);
        let c = compile_rule(rule, kt.as_deref(), &code_sets)?;
        let (rfrom, rto) = (rule.effective_from.unwrap_or(i64::MIN), rule.effective_to.unwrap_or(i64::MAX));
        let ri =
            u32::try_from(ri).map_err(|_| Error::Pack { field: "$.rules".into(), message: "too many rules".into() })?;
        if let Some(t) = &kt {
            let validity = match validity_cache.get(t.name()) {
                Some(v) => v.clone(),
                None => {
                    let v = row_validity(t)?;
                    validity_cache.insert(t.name().to_string(), v.clone());
                    v
                }
            };
            let add =
                |key: &str, row: usize, role: u8, index: &mut CodeIndex, entries: &mut Vec<Entry>| -> Result<()> {
                    let (f, to) = validity.get(row).copied().unwrap_or((i64::MIN, i64::MAX));
                    let prefix = row_is_prefix(t, row, mode)?;
                    let id = u32::try_from(entries.len())
                        .map_err(|_| Error::knowledge(t.name(), None, Some(row), "too many knowledge entries"))?;
                    index.add(key, prefix, id);
                    entries.push(Entry { rule: ri, row: row as u32, role, from: f.max(rfrom), to: to.min(rto) });
                    Ok(())
                };
            // A stay-level template reads its table whole; its rows select no fee lines.
            let by_line = rule.template.knowledge != templates::KnowledgeUse::Case;
            for row in (0..t.len()).filter(|_| by_line) {
                // One knowledge point may cover several codes: `a|b` (a JSON array in inline rows).
                for code in t.str("code", row)?.unwrap_or("").split('|') {
                    if code.is_empty() {
                        return Err(Error::knowledge(t.name(), Some("code"), Some(row), "empty code in the code list"));
                    }
                    add(code, row, 0, &mut index, &mut entries)?;
                }
            }
            for (key, row, role) in &c.extra_keys {
                add(key, *row as usize, *role, &mut index, &mut entries)?;
            }
        }
        for (prefix, role) in &c.selectors {
            let id = u32::try_from(entries.len()).map_err(|_| Error::rule(&rule.id, "template", "too many entries"))?;
            index.add(prefix, true, id);
            entries.push(Entry { rule: ri, row: NO_ROW, role: *role, from: rfrom, to: rto });
        }
        let scene_mask = rule.scenes.iter().fold(0u8, |m, s| m | s.bit());
        let citations = match &kt {
            Some(t) => citations(t)?,
            None => Vec::new(),
        };
        rules.push(CompiledRule { kernel: c.kernel, scene_mask, from: rfrom, to: rto, citations });
    }
    templates::drg_case::link(&pack, &mut rules, &tables, &payment)?;
    let mut scenes = Vec::new();
    for (scene, codes) in &pack.scenes {
        for c in codes {
            scenes.push((c.clone(), scene.bit()));
        }
    }
    Ok(Engine { pack, rules, entries, index, code_sets, scenes: super::encounters::SceneMap::new(scenes) })
}

/// Whether knowledge row `row` matches codes by prefix: its `match` column, else the table's mode.
pub(crate) fn row_is_prefix(t: &KnowledgeTable, row: usize, mode: MatchMode) -> Result<bool> {
    match t.str("match", row)? {
        None => Ok(mode == MatchMode::Prefix),
        Some("prefix") => Ok(true),
        Some("exact") => Ok(false),
        Some(other) => Err(Error::knowledge(
            t.name(),
            Some("match"),
            Some(row),
            format!("expected \"exact\" or \"prefix\", found {other:?}"),
        )),
    }
}

fn compile_rule(rule: &Rule, kt: Option<&KnowledgeTable>, code_sets: &CodeSets) -> Result<templates::Compiled> {
    templates::compile(rule, kt, code_sets)
}

/// Effective ranges of a table's rows, with `supersedes` applied: a superseded point stops where
/// the point that replaces it starts (or entirely, when the new point has no start date).
fn row_validity(t: &KnowledgeTable) -> Result<Vec<(i64, i64)>> {
    let mut v = Vec::with_capacity(t.len());
    let mut by_kp: BTreeMap<String, usize> = BTreeMap::new();
    for r in 0..t.len() {
        let from = t.time("effective_from", r)?.unwrap_or(i64::MIN);
        let to = t.time("effective_to", r)?.unwrap_or(i64::MAX);
        if to <= from {
            return Err(Error::knowledge(t.name(), Some("effective_to"), Some(r), "must be after effective_from"));
        }
        v.push((from, to));
        if let Some(kp) = t.str("kp_id", r)? {
            if let Some(first) = by_kp.insert(kp.to_string(), r) {
                return Err(Error::knowledge(
                    t.name(),
                    Some("kp_id"),
                    Some(r),
                    format!("duplicate kp_id {kp:?} (first at row {first})"),
                ));
            }
        }
    }
    for r in 0..t.len() {
        if let Some(old) = t.str("supersedes", r)? {
            let target = *by_kp.get(old).ok_or_else(|| {
                Error::knowledge(t.name(), Some("supersedes"), Some(r), format!("supersedes unknown kp_id {old:?}"))
            })?;
            let start = v.get(r).map_or(i64::MIN, |x| x.0);
            if let Some(slot) = v.get_mut(target) {
                slot.1 = slot.1.min(start);
            }
        }
    }
    Ok(v)
}

/// Checks every rule whose knowledge is inline (or that takes none) by compiling it, so that a pack
/// with a broken inline table fails at load; rules over tables given later are compiled then.
pub(crate) fn validate_inline(pack: &RulePack) -> Result<()> {
    let code_sets = CodeSets::compile(&pack.code_sets)?;
    for (name, decl) in &pack.knowledge {
        if let Some(t) = &decl.inline {
            row_validity(t).map_err(|e| match e {
                Error::Knowledge { .. } => e,
                other => Error::Pack { field: format!("$.knowledge.{name}"), message: other.to_string() },
            })?;
        }
    }
    for rule in &pack.rules {
        let kt = match &rule.knowledge {
            None => None,
            Some(k) => match pack.knowledge.get(k).and_then(|d| d.inline.as_ref()) {
                Some(t) => Some(t),
                None => continue,
            },
        };
        compile_rule(rule, kt, &code_sets)?;
    }
    Ok(())
}

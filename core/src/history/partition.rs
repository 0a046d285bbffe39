//! Cutting claims so that checks per partition give exactly the findings of one check.

use super::PartitionKey;
use crate::claims::{Claims, ClaimsTable, FeeView, MdtrtView, Resolver, StrCol};
use crate::engine::codes::FxHashMap;
use crate::engine::Engine;
use crate::error::{Error, Result};
use arrow_array::{make_array, Array, ArrayRef, RecordBatch, StringArray};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// FNV-1a 64 of a key: the same partition for the same key on every machine and version.
fn part_of(key: &str, parts: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % parts as u64) as usize
}

/// Rows `rows` (increasing) of `batch`, copied.
fn take(batch: &RecordBatch, rows: &[usize]) -> Result<RecordBatch> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &r in rows {
        match runs.last_mut() {
            Some((_, end)) if *end == r => *end += 1,
            _ => runs.push((r, r + 1)),
        }
    }
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| {
            let data = c.to_data();
            let mut m = MutableArrayData::new(vec![&data], false, rows.len());
            for &(a, b) in &runs {
                m.try_extend(0, a, b).map_err(|e| Error::Argument {
                    argument: "claims".into(),
                    message: format!("partitioning: {e}"),
                })?;
            }
            Ok(make_array(m.freeze()))
        })
        .collect::<Result<_>>()?;
    RecordBatch::try_new(batch.schema(), cols)
        .map_err(|e| Error::Argument { argument: "claims".into(), message: format!("partitioning: {e}") })
}

/// Splits `claims` into `parts` claims such that checking each with the rules of partition key
/// `key` (see [`Engine::partition_key`]) and concatenating the findings (in the engine's order)
/// gives exactly the findings of checking `claims` once.
///
/// * [`PartitionKey::Person`]: every table is split by person: an encounter goes where its
///   `psn_no` goes (an encounter without one, by its `mdtrt_id`), its diagnoses, operations and
///   lines go with it (lines of an encounter missing from `mdtrt` go by the line's `psn_no`, else
///   by `mdtrt_id`). Encounters stay whole, so line and encounter rules are exact too.
/// * [`PartitionKey::TraceCode`]: only fee lines with trace codes are kept; a line goes to every
///   partition that owns one of its codes, with `drug_trac_codg` rewritten (as a comma-joined
///   Utf8 string) to the codes that partition owns; the `mdtrt` rows of those lines come along.
///   Only trace-code rules are exact on such partitions.
///
/// A key goes to partition `FNV-1a-64(key) mod parts`, the same on every machine, so a caller
/// can also route rows itself (Spark, Ray).
///
/// ```
/// use medaudit_core::history::{partition_claims, PartitionKey};
/// use medaudit_core::{synth, Engine, RulePack};
/// let engine = Engine::new(RulePack::history_sample()?)?;
/// let data = synth::history::generate(&synth::history::HistoryConfig { persons: 40, ..Default::default() });
/// let parts = partition_claims(&engine, &data.claims, PartitionKey::Person, 4)?;
/// assert_eq!(parts.len(), 4);
/// # Ok::<(), medaudit_core::Error>(())
/// ```
pub fn partition_claims(engine: &Engine, claims: &Claims, key: PartitionKey, parts: usize) -> Result<Vec<Claims>> {
    let _ = engine;
    if parts == 0 {
        return Err(Error::Argument { argument: "parts".into(), message: "must be at least 1".into() });
    }
    let map = &claims.column_map;
    let mut enc_key: FxHashMap<&str, &str> = FxHashMap::default();
    for b in &claims.mdtrt {
        let v = MdtrtView::new(b, map)?;
        for i in 0..v.rows {
            if let Some(id) = v.mdtrt_id.get(i) {
                enc_key.entry(id).or_insert_with(|| v.psn_no.and_then(|c| c.get(i)).unwrap_or(id));
            }
        }
    }
    let mut out: Vec<Claims> =
        (0..parts).map(|_| Claims { column_map: claims.column_map.clone(), ..Claims::default() }).collect();
    let mut fee_views = Vec::new();
    let mut base = 0;
    for b in &claims.fee_details {
        let v = FeeView::new(b, map, base)?;
        base += v.rows;
        for i in 0..v.rows {
            if let Some(id) = v.mdtrt_id.get(i) {
                enc_key.entry(id).or_insert_with(|| v.psn_no.and_then(|c| c.get(i)).unwrap_or(id));
            }
        }
        fee_views.push(v);
    }
    let split = |batches: &[RecordBatch], t: ClaimsTable| -> Result<Vec<Vec<RecordBatch>>> {
        let mut per: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
        for b in batches {
            let col: StrCol = Resolver::new(b, t, map).req_str("mdtrt_id")?;
            let mut rows: Vec<Vec<usize>> = vec![Vec::new(); parts];
            for i in 0..b.num_rows() {
                let k = col.get(i).map_or("", |id| enc_key.get(id).copied().unwrap_or(id));
                if let Some(r) = rows.get_mut(part_of(k, parts)) {
                    r.push(i);
                }
            }
            for (p, r) in rows.iter().enumerate() {
                if let Some(slot) = per.get_mut(p) {
                    if !r.is_empty() || slot.is_empty() {
                        slot.push(take(b, r)?);
                    }
                }
            }
        }
        Ok(per)
    };
    match key {
        PartitionKey::Person => {
            let m = split(&claims.mdtrt, ClaimsTable::Mdtrt)?;
            let d = split(&claims.diagnoses, ClaimsTable::Diagnoses)?;
            let o = split(&claims.operations, ClaimsTable::Operations)?;
            let f = split(&claims.fee_details, ClaimsTable::FeeDetails)?;
            for (p, c) in out.iter_mut().enumerate() {
                c.mdtrt = m.get(p).cloned().unwrap_or_default();
                c.diagnoses = d.get(p).cloned().unwrap_or_default();
                c.operations = o.get(p).cloned().unwrap_or_default();
                c.fee_details = f.get(p).cloned().unwrap_or_default();
            }
        }
        PartitionKey::TraceCode => {
            let src = map.source(ClaimsTable::FeeDetails, "drug_trac_codg");
            let mut encs: Vec<FxHashMap<&str, ()>> = vec![FxHashMap::default(); parts];
            for (b, v) in claims.fee_details.iter().zip(&fee_views) {
                let Some(tc) = Resolver::new(b, ClaimsTable::FeeDetails, map).trace_codes()? else { continue };
                let mut rows: Vec<Vec<usize>> = vec![Vec::new(); parts];
                let mut codes: Vec<Vec<Option<String>>> = vec![Vec::new(); parts];
                for i in 0..v.rows {
                    let cs = tc.codes(i);
                    let mut mine: Vec<Vec<&str>> = vec![Vec::new(); parts];
                    for c in &cs {
                        if let Some(m) = mine.get_mut(part_of(c, parts)) {
                            m.push(c);
                        }
                    }
                    for (p, m) in mine.iter().enumerate() {
                        if m.is_empty() {
                            continue;
                        }
                        if let (Some(r), Some(cv), Some(e)) = (rows.get_mut(p), codes.get_mut(p), encs.get_mut(p)) {
                            r.push(i);
                            cv.push(Some(m.join(",")));
                            if let Some(id) = v.mdtrt_id.get(i) {
                                e.insert(id, ());
                            }
                        }
                    }
                }
                let idx = b.schema_ref().fields().iter().position(|f| f.name() == src);
                for (p, (r, cv)) in rows.iter().zip(codes).enumerate() {
                    if r.is_empty() {
                        continue;
                    }
                    let t = take(b, r)?;
                    let t = match idx {
                        None => t,
                        Some(k) => {
                            let mut fields: Vec<Field> =
                                t.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
                            let mut cols: Vec<ArrayRef> = t.columns().to_vec();
                            if let (Some(f), Some(c)) = (fields.get_mut(k), cols.get_mut(k)) {
                                *f = Field::new(src, DataType::Utf8, true);
                                *c = Arc::new(StringArray::from(cv));
                            }
                            RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(|e| Error::Argument {
                                argument: "claims".into(),
                                message: format!("partitioning: {e}"),
                            })?
                        }
                    };
                    if let Some(c) = out.get_mut(p) {
                        c.fee_details.push(t);
                    }
                }
            }
            for b in &claims.mdtrt {
                let ids = Resolver::new(b, ClaimsTable::Mdtrt, map).req_str("mdtrt_id")?;
                for (p, e) in encs.iter().enumerate() {
                    let rows: Vec<usize> =
                        (0..b.num_rows()).filter(|&i| ids.get(i).is_some_and(|id| e.contains_key(id))).collect();
                    if let (false, Some(c)) = (rows.is_empty(), out.get_mut(p)) {
                        c.mdtrt.push(take(b, &rows)?);
                    }
                }
            }
        }
    }
    Ok(out)
}

//! The encounter table of one check: `mdtrt` rows by id, their scene, and their diagnoses as
//! code-set bits.

use super::codes::{CodeSets, FxHashMap};
use crate::claims::{ClaimsTable, CodeView, ColumnMap, MdtrtView};
use crate::error::{Error, Result};
use arrow_array::RecordBatch;

/// One encounter's attributes, borrowed from the claims.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EncRow<'a> {
    pub id: &'a str,
    /// False when the id appears only in lines or diagnoses, not in `mdtrt`.
    pub has_row: bool,
    /// Row in `mdtrt` (across batches), for errors.
    pub mdtrt_row: usize,
    pub psn: Option<&'a str>,
    pub gend: Option<&'a str>,
    pub brdy: Option<i64>,
    pub age: Option<f64>,
    pub insutype: Option<&'a str>,
    pub hosp_lv: Option<&'a str>,
    pub fixmedins: Option<&'a str>,
    pub begn: Option<i64>,
    pub end: Option<i64>,
    pub die: Option<i64>,
    /// Scene bits (see [`crate::pack::Scene`]); 0 when unknown.
    pub scene: u8,
}

pub(crate) struct EncTable<'a> {
    pub rows: Vec<EncRow<'a>>,
    /// Rows `[0, n_mdtrt)` come from `mdtrt`; later ones were met only in lines or diagnoses.
    n_mdtrt: usize,
    /// Whether the `mdtrt` ids are strictly increasing: then they are found by a cursor (lines
    /// come grouped in the same order) or a binary search, with no hash map, like a merge join.
    sorted: bool,
    cursor: usize,
    /// Unsorted `mdtrt`: every id. Sorted: only the ids not in `mdtrt`.
    by_id: FxHashMap<&'a str, u32>,
    diag_bits: Vec<u64>,
    stride: usize,
    /// Whether a diagnoses table was given at all.
    pub has_diagnoses: bool,
}

impl<'a> EncTable<'a> {
    pub fn build(mdtrt: &'a [RecordBatch], map: &'a ColumnMap, scenes: &[(String, u8)]) -> Result<Self> {
        let n: usize = mdtrt.iter().map(RecordBatch::num_rows).sum();
        let mut t = EncTable {
            rows: Vec::with_capacity(n),
            n_mdtrt: 0,
            sorted: true,
            cursor: 0,
            by_id: FxHashMap::default(),
            diag_bits: Vec::new(),
            stride: 0,
            has_diagnoses: false,
        };
        let mut base = 0;
        for b in mdtrt {
            let v = MdtrtView::new(b, map)?;
            for r in 0..v.rows {
                let g = base + r;
                let id = v.mdtrt_id.get(r).ok_or_else(|| Error::Value {
                    table: "mdtrt".into(),
                    column: map.source(ClaimsTable::Mdtrt, "mdtrt_id").into(),
                    row: g,
                    rule_id: None,
                    message: "null encounter id".into(),
                })?;
                let med_type = v.med_type.and_then(|c| c.get(r));
                let scene = med_type.map_or(0, |m| {
                    scenes.iter().filter(|(p, _)| m.starts_with(p.as_str())).fold(0, |acc, (_, bit)| acc | bit)
                });
                let row = EncRow {
                    id,
                    has_row: true,
                    mdtrt_row: g,
                    psn: v.psn_no.and_then(|c| c.get(r)),
                    gend: v.gend.and_then(|c| c.get(r)),
                    brdy: v.brdy.and_then(|c| c.get(r)),
                    age: v.age.and_then(|c| c.get(r)),
                    insutype: v.insutype.and_then(|c| c.get(r)),
                    hosp_lv: v.hosp_lv.and_then(|c| c.get(r)),
                    fixmedins: v.fixmedins_code.and_then(|c| c.get(r)),
                    begn: v.begntime.and_then(|c| c.get(r)),
                    end: v.endtime.and_then(|c| c.get(r)),
                    die: v.die_date.and_then(|c| c.get(r)),
                    scene,
                };
                if t.sorted && t.rows.last().is_some_and(|prev| prev.id >= id) {
                    t.sorted = false;
                }
                t.rows.push(row);
            }
            base += v.rows;
        }
        t.n_mdtrt = t.rows.len();
        if !t.sorted {
            t.by_id.reserve(t.rows.len());
            for (i, r) in t.rows.iter().enumerate() {
                if let Some(first) = t.by_id.insert(r.id, i as u32) {
                    let first_row = t.rows.get(first as usize).map_or(0, |x| x.mdtrt_row);
                    return Err(Error::Value {
                        table: "mdtrt".into(),
                        column: map.source(ClaimsTable::Mdtrt, "mdtrt_id").into(),
                        row: r.mdtrt_row,
                        rule_id: None,
                        message: format!("duplicate encounter id {:?} (first at row {first_row})", r.id),
                    });
                }
            }
        }
        Ok(t)
    }

    /// The `mdtrt` row of `id` when the ids are sorted: the cursor, the next row, else a binary search.
    #[inline]
    fn find_sorted(&mut self, id: &str) -> Option<usize> {
        let c = self.cursor;
        if c < self.n_mdtrt {
            if self.rows.get(c).is_some_and(|r| r.id == id) {
                return Some(c);
            }
            if c + 1 < self.n_mdtrt && self.rows.get(c + 1).is_some_and(|r| r.id == id) {
                self.cursor = c + 1;
                return Some(c + 1);
            }
        }
        let i = self.rows.get(..self.n_mdtrt)?.binary_search_by(|r| r.id.cmp(id)).ok()?;
        self.cursor = i;
        Some(i)
    }

    /// The index of encounter `id`, adding an encounter without an `mdtrt` row if it is new.
    #[inline]
    pub fn intern(&mut self, id: &'a str) -> u32 {
        if self.sorted {
            if let Some(i) = self.find_sorted(id) {
                return i as u32;
            }
        }
        if let Some(&i) = self.by_id.get(id) {
            return i;
        }
        let i = self.rows.len() as u32;
        self.rows.push(EncRow { id, ..EncRow::default() });
        self.by_id.insert(id, i);
        i
    }

    /// The index of encounter `id`, if known.
    pub fn find(&self, id: &str) -> Option<u32> {
        if self.sorted {
            if let Ok(i) = self.rows.get(..self.n_mdtrt).unwrap_or(&[]).binary_search_by(|r| r.id.cmp(id)) {
                return Some(i as u32);
            }
        }
        self.by_id.get(id).copied()
    }

    pub fn get(&self, i: u32) -> Option<&EncRow<'a>> {
        self.rows.get(i as usize)
    }

    /// Reads the diagnoses: each distinct code is matched once against every code set.
    ///
    /// Reads the diagnoses when a rule needs them (`sets` given); validates them in any case.
    pub fn index_diagnoses(
        &mut self,
        batches: &'a [RecordBatch],
        map: &'a ColumnMap,
        sets: Option<&CodeSets>,
    ) -> Result<()> {
        self.has_diagnoses = !batches.is_empty();
        let Some(sets) = sets else {
            for b in batches {
                CodeView::new(b, ClaimsTable::Diagnoses, map)?;
            }
            return Ok(());
        };
        self.stride = sets.words();
        let mut cache: FxHashMap<&'a str, Vec<u64>> = FxHashMap::default();
        let mut base = 0;
        for b in batches {
            let v = CodeView::new(b, ClaimsTable::Diagnoses, map)?;
            for r in 0..v.rows {
                let id = v.mdtrt_id.get(r).ok_or_else(|| Error::Value {
                    table: "diagnoses".into(),
                    column: map.source(ClaimsTable::Diagnoses, "mdtrt_id").into(),
                    row: base + r,
                    rule_id: None,
                    message: "null encounter id".into(),
                })?;
                let enc = self.intern(id) as usize;
                if self.stride == 0 {
                    continue;
                }
                let Some(code) = v.code.get(r) else { continue };
                let bits = cache.entry(code).or_insert_with(|| {
                    let mut w = vec![0u64; sets.words()];
                    sets.matches(code, &mut w);
                    w
                });
                let need = (enc + 1) * self.stride;
                if self.diag_bits.len() < need {
                    self.diag_bits.resize(need, 0);
                }
                if let Some(slot) = self.diag_bits.get_mut(enc * self.stride..need) {
                    slot.iter_mut().zip(bits.iter()).for_each(|(a, b)| *a |= b);
                }
            }
            base += v.rows;
        }
        Ok(())
    }

    /// Whether encounter `enc` has a diagnosis in code set `set`.
    pub fn has_diag_in(&self, enc: u32, set: usize) -> bool {
        let i = enc as usize * self.stride + set / 64;
        self.diag_bits.get(i).is_some_and(|w| w & (1 << (set % 64)) != 0)
    }
}

//! The encounter table of one check: `mdtrt` rows by id, their scene, and their diagnoses as
//! code-set bits.

use super::codes::{cmp_str, same_str, CodeSets, FxHashMap, RecentCodes};
use crate::claims::{ClaimsTable, CodeView, ColumnMap, MdtrtView};
use crate::error::{Error, Result};
use arrow_array::RecordBatch;

/// One encounter's attributes, borrowed from the claims.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EncRow<'a> {
    pub id: &'a str,
    /// False when the id appears only in lines or diagnoses, not in `mdtrt`.
    pub has_row: bool,
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

/// The part of an encounter's row that a finding names: [`EncRow`]'s fields of the same names.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EncNames<'a> {
    pub id: &'a str,
    pub psn: Option<&'a str>,
    pub fixmedins: Option<&'a str>,
}

/// The part of an encounter's row that time checks read: [`EncRow`]'s fields of the same names.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stay {
    pub has_row: bool,
    pub begn: Option<i64>,
    pub end: Option<i64>,
    pub die: Option<i64>,
    pub scene: u8,
}

/// The pack's `scenes` map, compiled: each `med_type` prefix with its scene bit (see
/// [`crate::pack::Scene`]).
#[derive(Debug, Default)]
pub(crate) struct SceneMap {
    prefixes: Vec<(Box<[u8]>, u8)>,
}

impl SceneMap {
    pub fn new(prefixes: impl IntoIterator<Item = (String, u8)>) -> Self {
        SceneMap { prefixes: prefixes.into_iter().map(|(p, bit)| (p.into_bytes().into_boxed_slice(), bit)).collect() }
    }

    /// The scene bits of a `med_type` code: those of every prefix it starts with; 0 when it
    /// starts with none, or is null.
    #[inline]
    pub fn of(&self, med_type: Option<&str>) -> u8 {
        let Some(m) = med_type.map(str::as_bytes) else { return 0 };
        // Prefixes are a few bytes: compared inline, not through a call to memcmp.
        self.prefixes
            .iter()
            .filter(|(p, _)| m.len() >= p.len() && p.iter().zip(m).all(|(a, b)| a == b))
            .fold(0, |acc, (_, bit)| acc | bit)
    }
}

pub(crate) struct EncTable<'a> {
    /// The `mdtrt` batches, read on demand: only encounters that a rule looks at are materialised.
    views: Vec<MdtrtView<'a>>,
    /// First global row of each view.
    bases: Vec<usize>,
    /// `mdtrt` ids in row order; the encounter index of an `mdtrt` row is its global row.
    ids: Vec<&'a str>,
    /// Ids met only in lines or diagnoses: encounter index `ids.len() + k`.
    extra: Vec<&'a str>,
    /// Whether the `mdtrt` ids are strictly increasing: then they are found by a cursor (lines
    /// come grouped in the same order) or a binary search, with no hash map, like a merge join.
    sorted: bool,
    cursor: usize,
    /// Unsorted `mdtrt`: every id. Sorted: only the extra ids.
    by_id: FxHashMap<&'a str, u32>,
    /// The scene bits of each `mdtrt` row, worked out once here (rules ask for them per run of
    /// lines, several rules per encounter); empty when the pack maps no scenes.
    scenes: Vec<u8>,
    diag_bits: Vec<u64>,
    stride: usize,
    /// Whether a diagnoses table was given at all.
    pub has_diagnoses: bool,
}

impl<'a> EncTable<'a> {
    pub fn build(mdtrt: &'a [RecordBatch], map: &'a ColumnMap, scenes: &SceneMap) -> Result<Self> {
        let n: usize = mdtrt.iter().map(RecordBatch::num_rows).sum();
        let mut t = EncTable {
            views: Vec::with_capacity(mdtrt.len()),
            bases: Vec::with_capacity(mdtrt.len()),
            ids: Vec::with_capacity(n),
            extra: Vec::new(),
            sorted: true,
            cursor: 0,
            by_id: FxHashMap::default(),
            scenes: Vec::new(),
            diag_bits: Vec::new(),
            stride: 0,
            has_diagnoses: false,
        };
        for b in mdtrt {
            let v = MdtrtView::new(b, map)?;
            let base = t.ids.len();
            for r in 0..v.rows {
                let id = v.mdtrt_id.get(r).ok_or_else(|| Error::Value {
                    table: "mdtrt".into(),
                    column: map.source(ClaimsTable::Mdtrt, "mdtrt_id").into(),
                    row: base + r,
                    rule_id: None,
                    message: "null encounter id".into(),
                })?;
                if t.sorted && t.ids.last().is_some_and(|prev| cmp_str(prev, id).is_ge()) {
                    t.sorted = false;
                }
                t.ids.push(id);
            }
            if !scenes.prefixes.is_empty() {
                t.scenes.extend((0..v.rows).map(|r| scenes.of(v.med_type.and_then(|c| c.get(r)))));
            }
            t.bases.push(base);
            t.views.push(v);
        }
        if !t.sorted {
            t.by_id.reserve(t.ids.len());
            for (i, id) in t.ids.iter().enumerate() {
                if let Some(first) = t.by_id.insert(id, i as u32) {
                    return Err(Error::Value {
                        table: "mdtrt".into(),
                        column: map.source(ClaimsTable::Mdtrt, "mdtrt_id").into(),
                        row: i,
                        rule_id: None,
                        message: format!("duplicate encounter id {id:?} (first at row {first})"),
                    });
                }
            }
        }
        Ok(t)
    }

    /// The `mdtrt` row of `id` when the ids are sorted: the cursor, the next row, else a search
    /// that gallops forward from the cursor (lines come in `mdtrt` order, and a rule that skips
    /// the encounters without a matching line still moves forward by a short distance), else a
    /// binary search of the rows before it.
    #[inline]
    fn find_sorted(&mut self, id: &str) -> Option<usize> {
        let c = self.cursor;
        // The next encounter (the usual case when lines follow `mdtrt`) with no ordering compare.
        if let Some(x) = self.ids.get(c + 1) {
            if same_str(x, id) {
                self.cursor = c + 1;
                return Some(c + 1);
            }
        }
        match self.ids.get(c) {
            Some(x) if same_str(x, id) => return Some(c),
            Some(x) if cmp_str(x, id).is_gt() => {
                let i = self.ids.get(..c)?.binary_search_by(|x| cmp_str(x, id)).ok()?;
                self.cursor = i;
                return Some(i);
            }
            _ => {}
        }
        // ids[c] < id: find the first step whose id is >= id, then search the last gap.
        let (mut lo, mut step) = (c + 1, 1usize);
        loop {
            let probe = c.saturating_add(step);
            match self.ids.get(probe) {
                Some(x) if cmp_str(x, id).is_lt() => {
                    lo = probe + 1;
                    step = step.saturating_mul(2);
                }
                Some(_) => {
                    let i = lo + self.ids.get(lo..=probe)?.binary_search_by(|x| cmp_str(x, id)).ok()?;
                    self.cursor = i;
                    return Some(i);
                }
                None => {
                    let i = lo + self.ids.get(lo..)?.binary_search_by(|x| cmp_str(x, id)).ok()?;
                    self.cursor = i;
                    return Some(i);
                }
            }
        }
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
        let i = (self.ids.len() + self.extra.len()) as u32;
        self.extra.push(id);
        self.by_id.insert(id, i);
        i
    }

    /// Whether encounter `i` is an `mdtrt` row of a table whose ids are sorted: then the order of
    /// such indices is the order of their ids.
    #[inline]
    pub fn is_ranked(&self, i: u32) -> bool {
        self.sorted && (i as usize) < self.ids.len()
    }

    /// The index of encounter `id`, if known.
    pub fn find(&self, id: &str) -> Option<u32> {
        if self.sorted {
            if let Ok(i) = self.ids.binary_search_by(|x| cmp_str(x, id)) {
                return Some(i as u32);
            }
        }
        self.by_id.get(id).copied()
    }

    /// The view and row of an `mdtrt` encounter.
    #[inline]
    fn locate(&self, i: usize) -> Option<(&MdtrtView<'a>, usize)> {
        if i >= self.ids.len() {
            return None;
        }
        let chunk = self.bases.partition_point(|b| *b <= i).checked_sub(1)?;
        Some((self.views.get(chunk)?, i - self.bases.get(chunk)?))
    }

    /// Encounter `i`'s stay times and scene, without the rest of its row (for scans that look at
    /// every line); `None` when `i` is not an encounter at all (a null id).
    #[inline]
    pub fn stay(&self, i: u32) -> Option<Stay> {
        match self.locate(i as usize) {
            Some((v, r)) => Some(self.stay_at(v, r, i)),
            None => (i as usize).checked_sub(self.ids.len()).and_then(|k| self.extra.get(k)).map(|_| Stay::default()),
        }
    }

    /// The stay of encounter `i`, row `r` of `mdtrt` view `v`: read once here for [`Self::stay`]
    /// and [`Self::get`].
    #[inline]
    fn stay_at(&self, v: &MdtrtView<'a>, r: usize, i: u32) -> Stay {
        Stay {
            has_row: true,
            begn: v.begntime.and_then(|c| c.get(r)),
            end: v.endtime.and_then(|c| c.get(r)),
            die: v.die_date.and_then(|c| c.get(r)),
            scene: self.scene(i),
        }
    }

    /// What a finding names of encounter `i`: its id, `psn_no` and `fixmedins_code`, without the
    /// rest of its row (the output reads only these, for every finding).
    pub fn names(&self, i: u32) -> Option<EncNames<'a>> {
        let i = i as usize;
        let Some((v, r)) = self.locate(i) else {
            let id = *self.extra.get(i.checked_sub(self.ids.len())?)?;
            return Some(EncNames { id, psn: None, fixmedins: None });
        };
        Some(EncNames {
            id: self.ids.get(i).copied().unwrap_or_default(),
            psn: v.psn_no.and_then(|c| c.get(r)),
            fixmedins: v.fixmedins_code.and_then(|c| c.get(r)),
        })
    }

    /// The scene bits of encounter `i` (0 when unknown, or when `i` has no `mdtrt` row).
    #[inline]
    pub fn scene(&self, i: u32) -> u8 {
        self.scenes.get(i as usize).copied().unwrap_or(0)
    }

    /// Encounter `i`'s attributes, read from the claims.
    pub fn get(&self, i: u32) -> Option<EncRow<'a>> {
        let i = i as usize;
        let Some((v, r)) = self.locate(i) else {
            let id = *self.extra.get(i.checked_sub(self.ids.len())?)?;
            return Some(EncRow { id, ..EncRow::default() });
        };
        let stay = self.stay_at(v, r, i as u32);
        Some(EncRow {
            id: self.ids.get(i).copied().unwrap_or_default(),
            has_row: stay.has_row,
            psn: v.psn_no.and_then(|c| c.get(r)),
            gend: v.gend.and_then(|c| c.get(r)),
            brdy: v.brdy.and_then(|c| c.get(r)),
            age: v.age.and_then(|c| c.get(r)),
            insutype: v.insutype.and_then(|c| c.get(r)),
            hosp_lv: v.hosp_lv.and_then(|c| c.get(r)),
            fixmedins: v.fixmedins_code.and_then(|c| c.get(r)),
            begn: stay.begn,
            end: stay.end,
            die: stay.die,
            scene: stay.scene,
        })
    }

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
        if self.stride > 0 {
            self.diag_bits.reserve(self.ids.len() * self.stride);
        }
        // Each distinct code is matched once: its bits are `bits[k]`, found through a cache of
        // recent codes in front of a map.
        let mut known: FxHashMap<&'a str, usize> = FxHashMap::default();
        let mut bits: Vec<Vec<u64>> = Vec::new();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut recent = RecentCodes::new(rows >= 1024);
        // Diagnoses come grouped by encounter: one id compare per row, one lookup per encounter.
        let mut last: Option<(&'a str, usize)> = None;
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
                let enc = match last {
                    Some((l, e)) if same_str(l, id) => e,
                    _ => {
                        let e = self.intern(id) as usize;
                        last = Some((id, e));
                        e
                    }
                };
                if self.stride == 0 {
                    continue;
                }
                let Some(code) = v.code.get(r) else { continue };
                let k = match recent.get(code.as_bytes()) {
                    Some(k) => k,
                    None => {
                        let k = *known.entry(code).or_insert_with(|| {
                            let mut w = vec![0u64; sets.words()];
                            sets.matches(code, &mut w);
                            bits.push(w);
                            bits.len() - 1
                        });
                        recent.put(code.as_bytes(), k);
                        k
                    }
                };
                let need = (enc + 1) * self.stride;
                if self.diag_bits.len() < need {
                    self.diag_bits.resize(need, 0);
                }
                if let (Some(slot), Some(w)) = (self.diag_bits.get_mut(enc * self.stride..need), bits.get(k)) {
                    slot.iter_mut().zip(w.iter()).for_each(|(a, b)| *a |= b);
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

#[cfg(test)]
mod tests {
    use super::SceneMap;

    #[test]
    fn scene_bits_are_those_of_every_matching_prefix() {
        let m =
            SceneMap::new([("1".to_string(), 1), ("2".to_string(), 2), ("41".to_string(), 4), ("4".to_string(), 8)]);
        assert_eq!(m.of(Some("11")), 1);
        assert_eq!(m.of(Some("21")), 2);
        assert_eq!(m.of(Some("41")), 4 | 8, "both 41 and 4 are prefixes");
        assert_eq!(m.of(Some("4")), 8, "a code shorter than a prefix does not match it");
        assert_eq!(m.of(Some("99")), 0);
        assert_eq!(m.of(Some("")), 0);
        assert_eq!(m.of(None), 0);
        assert_eq!(SceneMap::default().of(Some("11")), 0);
    }
}

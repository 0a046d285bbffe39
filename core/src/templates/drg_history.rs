//! The cross-encounter view the stay templates `drg_readmission` and `drg_cost_shifting` read:
//! every encounter of the check call, ordered by (person, facility, start time).
//!
//! This is a view, not the patient-history mechanism of [`crate::history`]: it sees only the
//! encounters of one check call, keeps no state between calls, and does not stream. Moving these
//! two templates onto [`crate::history`] (events carrying the stay's DRG group) is open work; they
//! ask only three questions ([`History::before`], [`History::around`], [`History::info`]), so the
//! templates' logic does not depend on how the encounters are found.

use crate::engine::encounters::EncTable;

/// What the cross-encounter templates need to know of one encounter.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EncInfo<'a> {
    pub id: &'a str,
    pub psn: Option<&'a str>,
    pub facility: Option<&'a str>,
    pub begn: Option<i64>,
    pub end: Option<i64>,
    pub scene: u8,
    /// Sum of the encounter's line amounts (`None` when a line amount is null).
    pub cost: Option<f64>,
}

/// Encounters ordered by (person, facility, start time, encounter index).
pub(crate) struct History<'a> {
    info: Vec<EncInfo<'a>>,
    order: Vec<u32>,
    /// Position of each encounter in `order`.
    pos: Vec<u32>,
}

impl<'a> History<'a> {
    /// Builds the view of encounters `0..n` of `encs` with their costs.
    pub fn build(encs: &EncTable<'a>, n: usize, costs: &[Option<f64>]) -> Self {
        let info: Vec<EncInfo<'a>> = (0..n)
            .map(|e| {
                let r = encs.get(e as u32).unwrap_or_default();
                EncInfo {
                    id: r.id,
                    psn: r.psn,
                    facility: r.fixmedins,
                    begn: r.begn,
                    end: r.end,
                    scene: r.scene,
                    cost: costs.get(e).copied().flatten(),
                }
            })
            .collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|a, b| {
            let (x, y) = (info.get(*a as usize), info.get(*b as usize));
            let key = |i: Option<&EncInfo<'a>>| i.map(|i| (i.psn, i.facility, i.begn));
            key(x).cmp(&key(y)).then(a.cmp(b))
        });
        let mut pos = vec![0u32; n];
        for (p, e) in order.iter().enumerate() {
            if let Some(x) = pos.get_mut(*e as usize) {
                *x = p as u32;
            }
        }
        History { info, order, pos }
    }

    /// Encounter `e`.
    pub fn info(&self, e: u32) -> EncInfo<'a> {
        self.info.get(e as usize).copied().unwrap_or_default()
    }

    fn same_place(&self, a: &EncInfo, b: &EncInfo) -> bool {
        a.psn.is_some() && a.psn == b.psn && a.facility == b.facility
    }

    /// Earlier encounters of the same person at the same facility, nearest first.
    pub fn before(&self, e: u32) -> impl Iterator<Item = u32> + '_ {
        let me = self.info(e);
        let p = self.pos.get(e as usize).copied().unwrap_or(0) as usize;
        self.order
            .get(..p)
            .unwrap_or(&[])
            .iter()
            .rev()
            .copied()
            .take_while(move |o| self.same_place(&self.info(*o), &me))
    }

    /// Every other encounter of the same person at the same facility.
    pub fn around(&self, e: u32) -> impl Iterator<Item = u32> + '_ {
        let me = self.info(e);
        let p = self.pos.get(e as usize).copied().unwrap_or(0) as usize;
        let after = self
            .order
            .get(p + 1..)
            .unwrap_or(&[])
            .iter()
            .copied()
            .take_while(move |o| self.same_place(&self.info(*o), &me));
        self.before(e).chain(after)
    }
}

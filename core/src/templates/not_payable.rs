//! `not_payable`: the item is never payable by the fund (中药饮片单复方均不予支付, 目录外项目).
//!
//! Every line of a listed code is a finding. Amount at risk: the line's `det_item_fee_sumamt`.
//! The kernel is a unit variant of [`super::Kernel`]; the engine's code index does the work.

use super::{KnowledgeUse, TemplateSpec};

/// 中药饮片单复方均不予支付.
pub static NOT_PAYABLE: TemplateSpec = TemplateSpec {
    name: "not_payable",
    title: "中药饮片单复方均不予支付 (GZ10000101003000)",
    doc: "Every line of a listed item is a finding: the item is outside the fund's payment scope whatever it is combined with.",
    knowledge: KnowledgeUse::Required,
    params: &[],
    placeholders: &[],
    default_message: "{item_name}不属于医保基金支付范围",
    amount: "the line's det_item_fee_sumamt",
    needs: &[],
};

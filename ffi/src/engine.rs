//! Engine handles: building, looking up and freeing.
//!
//! A handle is never dereferenced. It is the address of a small allocation the library owns, used
//! as a key into a registry of live engines (`address -> Arc<Engine>`). A call looks its handle up
//! under a read lock and clones the `Arc`; `medaudit_engine_free` removes the entry. So:
//!
//! * a freed, never-issued or garbage handle is reported (`MEDAUDIT_INVALID_HANDLE`), never
//!   dereferenced: double free is harmless;
//! * freeing an engine while other threads are still inside calls on it is safe: those calls hold
//!   their own reference and finish on the old engine, which is dropped after the last one returns.
//!   This is how a host reloads knowledge: build a new engine, publish it, free the old one.

use crate::status::{core_err, Ctx, FfiError, FfiResult, MedauditStatus};
use medaudit_core::{Engine, KnowledgeTable, RulePack};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// An engine: a compiled rule pack with its knowledge. Opaque; immutable once built; safe to use
/// from any number of threads at once. Built by one of the `medaudit_engine_new*` functions, freed
/// by `medaudit_engine_free`.
pub struct MedauditEngine {
    /// Never read: the allocation exists to give the handle a unique address.
    _token: u8,
}

type Registry = RwLock<HashMap<usize, Arc<Engine>>>;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Registers `engine` and returns its new handle.
pub(crate) fn register(engine: Engine) -> *mut MedauditEngine {
    let handle = Box::into_raw(Box::new(MedauditEngine { _token: 0 }));
    registry().write().unwrap_or_else(|p| p.into_inner()).insert(handle as usize, Arc::new(engine));
    handle
}

/// The engine behind `handle`, kept alive for the caller's use.
pub(crate) fn lookup(handle: *const MedauditEngine) -> FfiResult<Arc<Engine>> {
    if handle.is_null() {
        return Err(FfiError::null("engine"));
    }
    registry().read().unwrap_or_else(|p| p.into_inner()).get(&(handle as usize)).cloned().ok_or_else(|| {
        FfiError::new(
            MedauditStatus::MEDAUDIT_INVALID_HANDLE,
            "engine: not a live engine handle (already freed, or not returned by medaudit_engine_new*)",
        )
    })
}

/// Unregisters `handle`; the engine is dropped once no call uses it any more.
pub(crate) fn unregister(handle: *mut MedauditEngine) -> FfiResult<()> {
    if handle.is_null() {
        return Ok(());
    }
    let removed = registry().write().unwrap_or_else(|p| p.into_inner()).remove(&(handle as usize));
    match removed {
        None => Err(FfiError::new(
            MedauditStatus::MEDAUDIT_INVALID_HANDLE,
            "medaudit_engine_free: not a live engine handle (already freed, or not returned by medaudit_engine_new*)",
        )),
        Some(engine) => {
            // SAFETY: `handle` was made by `Box::into_raw` in `register`, and the registry entry
            // that vouched for it has just been removed under the write lock, so no other free can
            // reach this line for the same allocation.
            drop(unsafe { Box::from_raw(handle) });
            drop(engine);
            Ok(())
        }
    }
}

/// Parses a pack (`"sample"` is not special here: callers pass the text).
pub(crate) fn parse_pack(text: &str) -> FfiResult<RulePack> {
    RulePack::from_json(text).map_err(|e| core_err(e, Ctx::Call))
}

/// Builds an engine from a pack and caller-given tables.
pub(crate) fn build(pack: RulePack, tables: Vec<KnowledgeTable>) -> FfiResult<Engine> {
    Engine::with_knowledge(pack, tables).map_err(|e| core_err(e, Ctx::Call))
}

/// Knowledge tables from JSON: `{"table": [{"code": …}, …], …}`, in name order.
pub(crate) fn knowledge_from_json(text: &str) -> FfiResult<Vec<KnowledgeTable>> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FfiError::json(format!("knowledge: invalid JSON at $: {e}")))?;
    let obj = match v {
        serde_json::Value::Object(o) => o,
        other => {
            return Err(FfiError::json(format!(
                "knowledge: $: expected an object {{\"table name\": [rows…]}}, found {}",
                crate::json_type(&other)
            )))
        }
    };
    let mut tables = Vec::with_capacity(obj.len());
    for (name, rows) in &obj {
        tables.push(KnowledgeTable::from_json_rows(name, rows).map_err(|e| core_err(e, Ctx::Call))?);
    }
    Ok(tables)
}

//! The loaded models as Ollama's scheduler keeps them: a load per model, its
//! keep-alive (which starts over once no request uses the model), its prompt cache and
//! its parallel slots.

use super::config::EmulatorConfig;
use super::slots::{Slot, Slots};
use super::state::{default_keep_alive, Installed, Keep, Loaded, Shared};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A model answering a request. As in Ollama, whose scheduler starts a model's
/// keep-alive timer only once no request uses it, the model does not expire while it
/// answers; when the answer ends (done, or the client gone) the timer starts over.
pub struct Answering {
    s: Arc<Shared>,
    model: String,
    /// The load it answers on (`Loaded::load_id`).
    load_id: u64,
    /// That load's parallel slots, and the one this request holds once its turn came.
    slots: Arc<Slots>,
    slot: Option<Slot>,
    done: bool,
}

impl Answering {
    /// Loads `m` (or refreshes its load) for a request it now answers.
    pub fn begin(
        s: &Arc<Shared>,
        m: &Installed,
        config: &EmulatorConfig,
        requested: Option<Keep>,
    ) -> Answering {
        let (load_id, slots) = mark_loaded(s, m, config, requested, true);
        Answering {
            s: s.clone(),
            model: m.name.clone(),
            load_id,
            slots,
            slot: None,
            done: false,
        }
    }

    /// Waits for one of the model's parallel slots, behind the requests that came
    /// before, as Ollama's runner does once every slot generates.
    pub async fn take_slot(&mut self) {
        if self.slot.is_none() {
            self.slot = Some(self.slots.take().await);
        }
    }

    /// The load's slots: how many generate now, for the pace of each.
    pub fn slots(&self) -> &Arc<Slots> {
        &self.slots
    }

    /// The answer ended: its slot goes to the next request waiting.
    pub fn finish(&mut self) {
        if !std::mem::replace(&mut self.done, true) {
            self.slot = None;
            touch(&self.s, &self.model, None, Some(self.load_id));
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Puts `full` in the loaded model's cache; returns the fraction of it that the prompt
/// cached before shares from the start.
pub fn cache_prompt(s: &Shared, model: &str, full: String) -> f64 {
    let key = crate::ModelName::parse(model).canonical();
    let mut models = s.models.lock().unwrap();
    let Some(loaded) = models.loaded.get_mut(&key) else {
        return 0.0;
    };
    let shared = loaded
        .cached_prompt
        .chars()
        .zip(full.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let fraction = shared as f64 / full.chars().count().max(1) as f64;
    loaded.cached_prompt = full;
    fraction
}

/// Loads `m` (or refreshes its load) for a request, `answering` it or not, and returns
/// the load's id and slots. Its keep-alive is the one `requested`, else the loaded
/// model's own, else the server's default, as Ollama's scheduler does.
pub fn mark_loaded(
    s: &Shared,
    m: &Installed,
    config: &EmulatorConfig,
    requested: Option<Keep>,
    answering: bool,
) -> (u64, Arc<Slots>) {
    let context_length = m.context_length(config.default_context());
    // Weights plus a KV cache for the whole context, as the real server reports.
    let size = m.size + context_length * m.base.block_count * 2048;
    let size_vram = (size as f64 * config.effective_offload()).round() as u64;
    let key = crate::ModelName::parse(&m.name).canonical();
    let mut models = s.models.lock().unwrap();
    // A model already loaded keeps its cache and, unless asked otherwise, its keep-alive.
    let before = models.loaded.remove(&key);
    let keep = requested.unwrap_or_else(|| match &before {
        Some(l) => l.keep,
        None => default_keep_alive(&config.env),
    });
    let busy = before.as_ref().map_or(0, |l| l.busy) + u32::from(answering);
    let load_id = match &before {
        Some(l) => l.load_id,
        None => {
            models.loads += 1;
            models.loads
        }
    };
    // A fresh load gets the slots the server runs with; a loaded model keeps its own.
    let slots = before
        .as_ref()
        .map_or_else(|| Slots::new(config.parallel_slots()), |l| l.slots.clone());
    // Idle after this request (a load-only one with nothing in flight): the keep-alive
    // starts now. Otherwise a loaded model keeps its expiry until it is idle again.
    let expires = match &before {
        Some(l) if busy > 0 => l.expires,
        _ => keep.map(|k| Instant::now() + k),
    };
    models.loaded.insert(
        key,
        Loaded {
            size,
            size_vram,
            expires,
            keep,
            busy,
            load_id,
            fresh: busy > 0 && before.as_ref().is_none_or(|l| l.fresh),
            context_length,
            cached_prompt: before.map(|l| l.cached_prompt).unwrap_or_default(),
            slots: slots.clone(),
        },
    );
    (load_id, slots)
}

/// After an answer on the load `answered` (its `load_id`), or a request setting the
/// model's keep-alive to `keep`, the keep-alive starts over once no request is using the
/// model; a keep-alive of 0 then unloads it. An answer whose load is gone (the model was
/// deleted or unloaded meanwhile) leaves a later load alone.
pub fn touch(s: &Shared, model: &str, keep: Option<Keep>, answered: Option<u64>) {
    let key = crate::ModelName::parse(model).canonical();
    let mut models = s.models.lock().unwrap();
    let Some(l) = models.loaded.get_mut(&key) else {
        return;
    };
    if let Some(load_id) = answered {
        if load_id != l.load_id {
            return;
        }
        l.busy = l.busy.saturating_sub(1);
    }
    if let Some(keep) = keep {
        l.keep = keep;
    }
    if l.busy > 0 {
        return;
    }
    l.fresh = false;
    if l.keep == Some(Duration::ZERO) {
        models.loaded.remove(&key);
    } else {
        l.expires = l.keep.map(|k| Instant::now() + k);
    }
}

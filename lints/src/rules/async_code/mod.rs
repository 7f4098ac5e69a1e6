//! Async services: blocking the executor, holding locks across `.await`,
//! unowned tasks and unbounded queues.

pub(crate) mod blocking_in_async;
pub(crate) mod detached_spawn;
pub(crate) mod lock_across_await;
pub(crate) mod unbounded_channel;

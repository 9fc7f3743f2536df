"""What every domain service is built with: bot/services.py `build_deps` hands the same six
parts to `ItemService`, `SyncService` and `ConnectionService`."""

from __future__ import annotations


class Service:
    def __init__(self, *, config, store, providers, clock, notifier, executor):
        self.config = config  # bot.config.Config
        self.store = store  # store.Store
        self.providers = providers  # provider name -> providers.base.Provider
        self.clock = clock
        self.notifier = notifier  # bot.notify.Notifier: where outcomes go
        self.executor = executor  # slow work (publishing, syncs) runs here

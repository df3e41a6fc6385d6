package io.milan.trainer.checkpoint.torchfile;

/** What opening a file gives: the unpickled object, and where its storages' bytes are. */
record LoadedFile(Object root, StorageSource storages) {
}

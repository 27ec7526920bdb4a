package dev.stockade;

/**
 * When a {@linkplain WorkspaceMode#TRANSACTIONAL transactional} workspace's changes are applied
 * to the host directory ({@link SandboxPolicy.Builder#commitOn}).
 */
public enum CommitOn {
    /**
     * When the command exits with status 0 (not killed, not timed out, no set-up error, and the
     * quota not filled: {@link LimitHit#DISK} means a write failed, which a command that still
     * exits 0 ignored), before {@link SandboxedProcess#waitFor()} returns; otherwise they are
     * discarded. The outcome is
     * {@link SandboxResult#commit()}.
     */
    SUCCESS,
    /**
     * Only when the caller calls {@link SandboxedProcess#commit()} after the end; until then (or
     * {@link SandboxedProcess#discard()} or {@link SandboxedProcess#close()}) the changes are
     * held in memory (the tmpfs).
     */
    MANUAL
}

package dev.stockade;

/**
 * How the workspace is in the sandbox's view ({@link SandboxPolicy.Builder#workspaceMode}).
 */
public enum WorkspaceMode {
    /** The host directory itself, bound read-write: every write lands at once. */
    DIRECT,
    /**
     * An overlay of the host directory: what the step writes, renames and deletes lands in a
     * private tmpfs of the {@linkplain SandboxPolicy#workspaceQuotaBytes() quota's} size, and
     * reaches the host directory only when it is committed ({@link SandboxPolicy#commitOn()});
     * a step that fails, is killed or times out leaves the workspace as it was.
     */
    TRANSACTIONAL
}

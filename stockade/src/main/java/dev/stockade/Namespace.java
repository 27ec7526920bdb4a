package dev.stockade;

import dev.stockade.internal.Protocol;

/**
 * The Linux namespaces a sandbox can be given. Every one is on in {@link SandboxPolicy#defaults()};
 * {@link SandboxPolicy.Builder#disable(Namespace...)} switches one off.
 */
public enum Namespace {
    /** A user namespace: the command's uid/gid are mapped to the caller's; no host privileges. */
    USER(Protocol.CLONE_NEWUSER),
    /**
     * A pid namespace: the helper is pid 1, the host's processes are invisible, and the tree
     * dies with pid 1.
     */
    PID(Protocol.CLONE_NEWPID),
    /** A mount namespace: the private filesystem view (read-only host, workspace, tmpfs). */
    MOUNT(Protocol.CLONE_NEWNS),
    /** A network namespace with only loopback up; off is the same as {@link Network#HOST}. */
    NETWORK(Protocol.CLONE_NEWNET),
    /** An IPC namespace: no System V IPC or POSIX message queues shared with the host. */
    IPC(Protocol.CLONE_NEWIPC),
    /** A UTS namespace: the sandbox's own hostname. */
    UTS(Protocol.CLONE_NEWUTS),
    /** A cgroup namespace: the sandbox sees its own cgroup as the root. */
    CGROUP(Protocol.CLONE_NEWCGROUP);

    private final int cloneFlag;

    Namespace(int cloneFlag) {
        this.cloneFlag = cloneFlag;
    }

    /** {@return the kernel's {@code CLONE_NEW*} flag for this namespace} */
    public int cloneFlag() {
        return cloneFlag;
    }
}

package dev.stockade.internal.egress;

/** A request the proxy cannot read: logged MALFORMED with this reason, answered with reply. */
final class BadRequest extends Exception {
    private static final long serialVersionUID = 1L;

    private final Reply reply;

    BadRequest(Reply reply, String reason) {
        super(reason, null, false, false);
        this.reply = reply;
    }

    Reply reply() {
        return reply;
    }
}

// The generator ran in the sandbox (its line, as the sandbox's user) and the class it wrote was
// compiled with the project's own.
def log = new File(basedir, 'build.log').text
def generated = new File(basedir, 'target/generated-sources/greetings/gen/Greetings.java')
// The sandbox's user is named sandbox for a root caller, and after the caller otherwise.
def user = System.getProperty('user.name') == 'root' ? 'sandbox' : System.getProperty('user.name')
assert log.contains("generated ${generated.path} as ${user}")
assert log.contains('stockade: sh: exit status 0')
assert generated.text.contains('public static final String HELLO = "hello from a sandboxed generator";')
assert new File(basedir, 'target/classes/gen/Greetings.class').isFile()
assert new File(basedir, 'target/classes/it/App.class').isFile()
return true

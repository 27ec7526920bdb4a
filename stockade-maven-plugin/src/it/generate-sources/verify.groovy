// The generator ran in the sandbox (its line, as the sandbox's user) and the class it wrote was
// compiled with the project's own.
def log = new File(basedir, 'build.log').text
def generated = new File(basedir, 'target/generated-sources/greetings/gen/Greetings.java')
assert log.contains("generated ${generated.path} as sandbox")
assert log.contains('stockade: sh: exit status 0')
assert generated.text.contains('public static final String HELLO = "hello from a sandboxed generator";')
assert new File(basedir, 'target/classes/gen/Greetings.class').isFile()
assert new File(basedir, 'target/classes/it/App.class').isFile()
return true

// The host's file is there and readable (setup.groovy), yet the step could not read it: the
// sandbox's home is an empty tmpfs, so cat fails, and the build fails with its status.
def settings = new File(System.getProperty('user.home'), '.m2/settings.xml')
try {
    assert settings.canRead()
    def log = new File(basedir, 'build.log').text
    assert log.contains("cat: ${settings.path}: No such file or directory")
    assert log.contains('stockade: cat failed: exit status 1')
} finally {
    def made = new File(basedir, 'made-settings')
    if (made.exists() && settings.text.contains('made by the stockade-maven-plugin read-settings test')) {
        settings.delete()
    }
    if (new File(basedir, 'made-m2').exists()) {
        settings.parentFile.delete() // only when empty
    }
}
return true

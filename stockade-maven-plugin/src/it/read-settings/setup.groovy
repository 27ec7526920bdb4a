// The file the step goes after must exist on the host, readable by this build, or the test would
// prove nothing: made (with a marker) when the user has none, and removed again by verify.groovy.
def settings = new File(System.getProperty('user.home'), '.m2/settings.xml')
if (!settings.exists()) {
    if (settings.parentFile.mkdirs()) {
        new File(basedir, 'made-m2').text = settings.parentFile.path
    }
    settings.text = '<settings><!-- made by the stockade-maven-plugin read-settings test --></settings>\n'
    new File(basedir, 'made-settings').text = settings.path
}
assert settings.canRead()
return true

package dev.stockade.maven;

import org.apache.maven.plugin.MojoExecutionException;

/** The one error a bad value in the plugin's configuration gives: the parameter and why. */
final class ConfigurationProblem {
    private ConfigurationProblem() {}

    static MojoExecutionException of(String parameter, String why) {
        return new MojoExecutionException("stockade: <" + parameter + ">: " + why);
    }
}

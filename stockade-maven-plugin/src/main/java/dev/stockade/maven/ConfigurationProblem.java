package dev.stockade.maven;

import java.util.function.Function;
import org.apache.maven.plugin.MojoExecutionException;

/** The one error a bad value in the plugin's configuration gives: the parameter and why. */
final class ConfigurationProblem {
    private ConfigurationProblem() {}

    static MojoExecutionException of(String parameter, String why) {
        return new MojoExecutionException("stockade: <" + parameter + ">: " + why);
    }

    /**
     * {@code text} (stripped) read by {@code parser}, one of the CLI's, whose message for a
     * value it refuses becomes the parameter's error.
     */
    static <T> T parse(String parameter, String text, Function<String, T> parser)
            throws MojoExecutionException {
        try {
            return parser.apply(text.strip());
        } catch (RuntimeException e) {
            throw of(parameter, e.getMessage());
        }
    }
}

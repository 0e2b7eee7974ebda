package io.driftagent.policy.eval;

import io.driftagent.policy.model.CloudScope;
import java.util.List;

/**
 * A rule's cloud scope: the exec's cloud must be one of the entries. Providers and account ids are compared
 * ignoring case (Azure subscription ids appear in both cases); an entry without accounts takes every account.
 * A null provider never matches; a null account matches only entries without accounts.
 */
final class CloudMatcher {
    private final String[] providers;
    /** Per entry: the accepted accounts, empty for any account. */
    private final String[][] accounts;
    private final List<CloudScope> source;

    CloudMatcher(List<CloudScope> scopes) {
        this.source = List.copyOf(scopes);
        providers = new String[scopes.size()];
        accounts = new String[scopes.size()][];
        for (int i = 0; i < scopes.size(); i++) {
            providers[i] = scopes.get(i).provider().wireName();
            accounts[i] = scopes.get(i).accounts().toArray(String[]::new);
        }
    }

    boolean matches(String provider, String account) {
        if (provider == null) {
            return false;
        }
        for (int i = 0; i < providers.length; i++) {
            String expected = providers[i];
            if ((expected.equals(provider) || expected.equalsIgnoreCase(provider)) && accountMatches(accounts[i], account)) {
                return true;
            }
        }
        return false;
    }

    private static boolean accountMatches(String[] accepted, String account) {
        if (accepted.length == 0) {
            return true;
        }
        if (account == null) {
            return false;
        }
        for (String candidate : accepted) {
            if (candidate.equals(account) || candidate.equalsIgnoreCase(account)) {
                return true;
            }
        }
        return false;
    }

    String describe() {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < source.size(); i++) {
            CloudScope scope = source.get(i);
            text.append(i == 0 ? "" : ", ").append(scope.provider().wireName())
                    .append(scope.accounts().isEmpty() ? " (any account)" : " " + scope.accounts());
        }
        return text.append(']').toString();
    }
}

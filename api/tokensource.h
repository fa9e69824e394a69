#pragma once

#include "connectionprofiles.h"
#include "result.h"

#include <QObject>
#include <QString>

#include <functional>

namespace fleet {

// Where the API token comes from: the FLEET_TOKEN environment variable, a token file that only its owner can
// read, or the desktop keychain (QtKeychain). Each returns the token or a sentence saying what to fix.
namespace tokens {

Result<QString> fromEnvironment(const char *variable = "FLEET_TOKEN");
Result<QString> fromFile(const QString &path);
// The status page's API key: from `keyFile` when one is given, else STATUSPAGE_API_KEY.
Result<QString> statusPageKey(const QString &keyFile);

// Reads the token stored for `account` (a profile name) from the keychain; calls `done` on `context`'s thread.
void fromKeychain(const QString &account, QObject *context, std::function<void(Result<QString>)> done);
// The token of a saved profile, from where the profile says (its token file, FLEET_TOKEN, or the keychain under the
// profile's name): the one resolver of the console, its connect dialog and FleetSession::connectToProfile. `done`
// runs on `context`'s thread (at once for a file or the environment), not at all if `context` is destroyed.
void forProfile(const ConnectionProfile &profile, QObject *context, std::function<void(Result<QString>)> done);
void storeInKeychain(
    const QString &account, const QString &token, QObject *context, std::function<void(Result<bool>)> done);

} // namespace tokens

} // namespace fleet

#pragma once

#include <QString>

namespace fleet {

class FleetSession;

// The composer's default words: a template per incident status (resources/templates/, overridable in the user's
// config folder) with placeholders filled from live data. See resources/templates/README.md.
namespace statustemplates {

struct Values
{
    QString regions; // "EU Central and US West"
    QString reasons; // "packet loss 22%, ETIMEDOUT 6/min"
    QString replacements; // "16 amd64 workers in us-east and 5 aarch64 workers in eu-west"
    QString started; // "09:05 UTC"
};

// The template for `name` ("investigating", ..., "name"): the user's override if there is one, else the default.
QString load(const QString &name);
// Fills the placeholders; a sentence whose placeholder has no value is left out. Unknown placeholders stay as typed.
QString fill(const QString &text, const Values &values);
// What the session knows now: the regions degraded or down and why, replacements provisioned in the last 6 hours.
Values fromSession(const FleetSession &session);
// Joins "a", "a and b", "a, b and c".
QString listInWords(const QStringList &items);

} // namespace statustemplates

} // namespace fleet

#pragma once

#include <QString>
#include <QStringList>

namespace fleet {

class FleetSession;
struct RegionStats;
struct VerdictThresholds;

// The composer's default words: a template per incident status (resources/templates/, overridable in the user's
// config folder) with placeholders filled from live data. See resources/templates/README.md.
namespace statustemplates {

struct Values
{
    QString regions; // "EU Central and US West"
    QString reasons; // "packet loss 22%, ETIMEDOUT 6/min": internal figures, for the timeline and the postmortem
    QString symptoms; // "packet loss and connection timeouts": what users see, in public words, without figures
    QString replacements; // "16 amd64 workers in US East and 5 aarch64 workers in EU West"
    QString started; // "09:05 UTC"
};

// The template for `name` ("investigating", ..., "name"): the user's override if there is one, else the default.
QString load(const QString &name);
// Fills the placeholders; a sentence whose placeholder has no value is left out. Unknown placeholders stay as typed.
QString fill(const QString &text, const Values &values);
// What the session knows now: the regions degraded or down and why, replacements provisioned in the last 6 hours.
Values fromSession(const FleetSession &session);
// The symptoms of one region's verdict in public words, no figures: packet loss, connection timeouts or resets,
// unreachable workers, slow connections (empty when none passes its threshold).
QStringList symptomsOf(const RegionStats &stats, const VerdictThresholds &thresholds);
// Joins "a", "a and b", "a, b and c".
QString listInWords(const QStringList &items);

} // namespace statustemplates

} // namespace fleet

// libFuzzer target: the Statuspage decoders (api/statuspage.h): incidents, components, postmortems and error
// bodies, bounded and tolerant. Nothing may crash; every text that comes out stays within its bound. Run by
// scripts/fuzz.

#include "statuspage.h"

#include <cstdint>
#include <cstdlib>

using namespace fleet::statuspage;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    if (const auto incidents = decodeIncidents(json); incidents.ok()) {
        check(incidents->size() <= 1000);
        for (const Incident &i : *incidents) {
            check(i.name.size() <= 1001);
            check(i.updates.size() <= 1000);
            for (const IncidentUpdate &u : i.updates)
                check(u.body.size() <= 100001);
        }
    }
    (void)decodeIncident(json);
    (void)decodeComponents(json);
    (void)decodePostmortem(json);
    check(decodeErrorBody(json).size() <= 2001);
    return 0;
}

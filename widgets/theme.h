#pragma once

#include "healthverdict.h"

#include <QColor>
#include <QPalette>
#include <QString>

class QApplication;
class QPainter;
class QRectF;

namespace fleet {

// The console's colours: a palette for the widgets, and the colours charts, tiles and badges draw with. Dark by
// default (a war room and a night on call); light for a bright office. Verdicts never rely on colour alone: each
// has a glyph shape and a word too.
struct Theme
{
    enum class Kind { Dark, Light };

    Kind kind = Kind::Dark;
    QPalette palette;
    QColor window, surface, surfaceRaised, text, mutedText, grid, accent;
    QColor healthy, degraded, down, noData;
    QColor stale, production, demo, insecure;
    QColor series[6]; // chart series colours, distinguishable for common colour-vision deficiencies

    static Theme dark();
    static Theme light();
    static Theme byName(const QString &name, bool *ok = nullptr); // "dark" or "light"
    QString name() const;

    void apply(QApplication *app) const; // Fusion style and this palette
    static const Theme &current();

    QColor verdictColor(Verdict verdict) const;
};

QString verdictLabel(Verdict verdict); // "Healthy", "Degraded", "Down", "No data", translated
// Draws the verdict's glyph in `rect`: a filled circle (healthy), a triangle with "!" (degraded), a square with a
// cross (down), a hollow dashed circle (no data). Distinguishable in greyscale.
void paintVerdictGlyph(QPainter *painter, const QRectF &rect, Verdict verdict, const Theme &theme);

} // namespace fleet

#pragma once

#include <QList>
#include <QPair>
#include <QWidget>

namespace fleet {

// The "?" overlay: every keyboard shortcut of the window, drawn over it; any key or click closes it.
class ShortcutsOverlay : public QWidget
{
    Q_OBJECT

public:
    explicit ShortcutsOverlay(QWidget *parent);

    void setShortcuts(const QList<QPair<QString, QString>> &keysAndWhat);
    const QList<QPair<QString, QString>> &shortcuts() const { return m_items; }
    void toggle();

protected:
    void paintEvent(QPaintEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QList<QPair<QString, QString>> m_items;
};

} // namespace fleet

// Jeton token enclosure: a tray and a lid, parametric (OpenSCAD).
// Render: openscad -o tray.stl hardware/enclosure.scad ; openscad -D 'part="lid"' -o lid.stl hardware/enclosure.scad
// Measure your own modules: marketplace display and clock modules differ by a millimetre or two.

part = "tray";          // "tray" or "lid"
wall = 2.0;             // wall and floor thickness (mm)
clearance = 0.4;        // play around the parts

// Inside space: the display module lies on top of a stack (Pico + perfboard, 2 x AA holder beside it;
// a side-by-side 2 x AA holder is about 58 x 31 x 15 mm).
inner_x = 84;           // 6-digit TM1637 module length (about 80 mm) + room
inner_y = 56;           // display module width + AA holder width
inner_z = 25;           // AA holder height + perfboard + Pico

// Openings in the lid.
window_x = 72;          // the six digits
window_y = 20;
window_offset_y = 8;    // from the lid's centre towards +y
button_d = 7;           // 6 x 6 mm tactile switch cap
button_offset_y = -14;

// USB slot in the tray's -x wall, for provisioning.
usb_w = 12;
usb_h = 8;
usb_z = 6;              // from the floor
usb_offset_y = -10;

lid_t = 2.0;
lip = 1.5;              // the lid's inner lip that locates it in the tray

outer = [inner_x + 2 * (wall + clearance), inner_y + 2 * (wall + clearance), inner_z + wall];

module tray() {
    difference() {
        cube(outer);
        translate([wall, wall, wall]) cube([outer[0] - 2 * wall, outer[1] - 2 * wall, inner_z + 1]);
        translate([-1, outer[1] / 2 + usb_offset_y - usb_w / 2, wall + usb_z]) cube([wall + 2, usb_w, usb_h]);
    }
}

module lid() {
    difference() {
        union() {
            cube([outer[0], outer[1], lid_t]);
            translate([wall + clearance / 2, wall + clearance / 2, lid_t])
                difference() {
                    cube([outer[0] - 2 * wall - clearance, outer[1] - 2 * wall - clearance, lip]);
                    translate([lip, lip, -1]) cube([outer[0] - 2 * wall - clearance - 2 * lip,
                                                    outer[1] - 2 * wall - clearance - 2 * lip, lip + 2]);
                }
        }
        translate([(outer[0] - window_x) / 2, outer[1] / 2 + window_offset_y - window_y / 2, -1])
            cube([window_x, window_y, lid_t + 2]);
        translate([outer[0] / 2, outer[1] / 2 + button_offset_y, -1]) cylinder(d = button_d, h = lid_t + 2, $fn = 48);
    }
}

if (part == "lid") lid(); else tray();

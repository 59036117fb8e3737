/// Marks classes that cross the plugin boundary as visible, so RTTI and exceptions work.
#pragma once

#define DRAY_SDK_API __attribute__((visibility("default")))

/*
 * VK_LAYER_ABLATE_device_index: a Vulkan layer that shows the application one physical device only, number
 * $ABLATE_VK_DEVICE_INDEX of what vkEnumeratePhysicalDevices returns without it (the loader's order: on Linux discrete
 * GPUs first, then by PCI bus).
 *
 * Why: dawn.node (npm `webgpu`) picks the first adapter whose name contains its `adapter=` flag, so among identical GPUs
 * (two NVIDIA H200) it can only ever reach the first, and CUDA_VISIBLE_DEVICES does not apply to Vulkan. With this
 * layer enabled (VK_INSTANCE_LAYERS=VK_LAYER_ABLATE_device_index, VK_ADD_LAYER_PATH=<this folder>), each training
 * process sees exactly its own GPU. packages/backend/src/webgpu.ts enables it for `pnpm worker --gpus i,j`.
 *
 * Build: bash packages/backend/vk-layer/build.sh (a C compiler and the Vulkan headers).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_INSTANCES 64

typedef struct {
  VkInstance instance;
  PFN_vkGetInstanceProcAddr next_gipa;
  PFN_vkEnumeratePhysicalDevices next_enumerate;
  PFN_vkEnumeratePhysicalDeviceGroups next_groups;
  PFN_vkDestroyInstance next_destroy;
} Instance;

static Instance instances[MAX_INSTANCES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static PFN_vkGetDeviceProcAddr next_gdpa; /* one device chain per process in practice; set by CreateDevice */

static Instance *find(VkInstance instance) {
  Instance *found = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < MAX_INSTANCES; i++)
    if (instances[i].instance == instance) { found = &instances[i]; break; }
  pthread_mutex_unlock(&lock);
  return found;
}

static long wanted_index(void) {
  const char *s = getenv("ABLATE_VK_DEVICE_INDEX");
  if (s == NULL || *s == '\0') return 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (*end != '\0' || v < 0) {
    fprintf(stderr, "VK_LAYER_ABLATE_device_index: ABLATE_VK_DEVICE_INDEX=%s is not a device index; showing no device\n", s);
    return -1;
  }
  return v;
}

static VkResult all_devices(Instance *in, uint32_t *n, VkPhysicalDevice **out) {
  VkResult r = in->next_enumerate(in->instance, n, NULL);
  if (r != VK_SUCCESS) return r;
  *out = calloc(*n ? *n : 1, sizeof(VkPhysicalDevice));
  if (*out == NULL) return VK_ERROR_OUT_OF_HOST_MEMORY;
  r = in->next_enumerate(in->instance, n, *out);
  if (r < 0) free(*out);
  return r < 0 ? r : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL EnumeratePhysicalDevices(VkInstance instance, uint32_t *count, VkPhysicalDevice *devices) {
  Instance *in = find(instance);
  if (in == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  uint32_t n = 0;
  VkPhysicalDevice *all = NULL;
  VkResult r = all_devices(in, &n, &all);
  if (r != VK_SUCCESS) return r;
  long idx = wanted_index();
  uint32_t shown = (idx >= 0 && (uint32_t)idx < n) ? 1 : 0;
  if (idx >= 0 && (uint32_t)idx >= n) fprintf(stderr, "VK_LAYER_ABLATE_device_index: device %ld asked for, but Vulkan has %u\n", idx, n);
  if (devices == NULL) {
    *count = shown;
  } else if (shown && *count >= 1) {
    devices[0] = all[idx];
    *count = 1;
  } else {
    *count = 0;
    r = shown ? VK_INCOMPLETE : VK_SUCCESS;
  }
  free(all);
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL EnumeratePhysicalDeviceGroups(VkInstance instance, uint32_t *count, VkPhysicalDeviceGroupProperties *groups) {
  Instance *in = find(instance);
  if (in == NULL || in->next_groups == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  uint32_t n = 0;
  VkPhysicalDevice *all = NULL;
  VkResult r = all_devices(in, &n, &all);
  if (r != VK_SUCCESS) return r;
  long idx = wanted_index();
  uint32_t shown = (idx >= 0 && (uint32_t)idx < n) ? 1 : 0;
  if (groups == NULL) {
    *count = shown;
  } else if (shown && *count >= 1) {
    /* One group of one device: the chosen one (the caller's sType and pNext are kept). */
    groups[0].physicalDeviceCount = 1;
    memset(groups[0].physicalDevices, 0, sizeof(groups[0].physicalDevices));
    groups[0].physicalDevices[0] = all[idx];
    groups[0].subsetAllocation = VK_FALSE;
    *count = 1;
  } else {
    *count = 0;
    r = shown ? VK_INCOMPLETE : VK_SUCCESS;
  }
  free(all);
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc, VkInstance *out) {
  VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)info->pNext;
  while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO))
    link = (VkLayerInstanceCreateInfo *)link->pNext;
  if (link == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)next(VK_NULL_HANDLE, "vkCreateInstance");
  if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult r = create(info, alloc, out);
  if (r != VK_SUCCESS) return r;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < MAX_INSTANCES; i++) {
    if (instances[i].instance == VK_NULL_HANDLE) {
      instances[i] = (Instance){
          .instance = *out,
          .next_gipa = next,
          .next_enumerate = (PFN_vkEnumeratePhysicalDevices)next(*out, "vkEnumeratePhysicalDevices"),
          .next_groups = (PFN_vkEnumeratePhysicalDeviceGroups)next(*out, "vkEnumeratePhysicalDeviceGroups"),
          .next_destroy = (PFN_vkDestroyInstance)next(*out, "vkDestroyInstance"),
      };
      break;
    }
  }
  pthread_mutex_unlock(&lock);
  return find(*out) ? VK_SUCCESS : VK_ERROR_TOO_MANY_OBJECTS;
}

static VKAPI_ATTR void VKAPI_CALL DestroyInstance(VkInstance instance, const VkAllocationCallbacks *alloc) {
  Instance *in = find(instance);
  if (in == NULL) return;
  PFN_vkDestroyInstance destroy = in->next_destroy;
  pthread_mutex_lock(&lock);
  memset(in, 0, sizeof(*in));
  pthread_mutex_unlock(&lock);
  destroy(instance, alloc);
}

static VKAPI_ATTR VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice pd, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *alloc, VkDevice *out) {
  VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)info->pNext;
  while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO))
    link = (VkLayerDeviceCreateInfo *)link->pNext;
  if (link == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(VK_NULL_HANDLE, "vkCreateDevice");
  if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
  next_gdpa = gdpa;
  return create(pd, info, alloc, out);
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL ablate_GetDeviceProcAddr(VkDevice device, const char *name) {
  if (strcmp(name, "vkGetDeviceProcAddr") == 0) return (PFN_vkVoidFunction)ablate_GetDeviceProcAddr;
  return next_gdpa ? next_gdpa(device, name) : NULL;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL ablate_GetInstanceProcAddr(VkInstance instance, const char *name) {
  if (strcmp(name, "vkGetInstanceProcAddr") == 0) return (PFN_vkVoidFunction)ablate_GetInstanceProcAddr;
  if (strcmp(name, "vkCreateInstance") == 0) return (PFN_vkVoidFunction)CreateInstance;
  if (strcmp(name, "vkDestroyInstance") == 0) return (PFN_vkVoidFunction)DestroyInstance;
  if (strcmp(name, "vkEnumeratePhysicalDevices") == 0) return (PFN_vkVoidFunction)EnumeratePhysicalDevices;
  if (strcmp(name, "vkEnumeratePhysicalDeviceGroups") == 0 || strcmp(name, "vkEnumeratePhysicalDeviceGroupsKHR") == 0)
    return (PFN_vkVoidFunction)EnumeratePhysicalDeviceGroups;
  if (strcmp(name, "vkCreateDevice") == 0) return (PFN_vkVoidFunction)CreateDevice;
  if (strcmp(name, "vkGetDeviceProcAddr") == 0) return (PFN_vkVoidFunction)ablate_GetDeviceProcAddr;
  if (instance == VK_NULL_HANDLE) return NULL;
  Instance *in = find(instance);
  return in ? in->next_gipa(instance, name) : NULL;
}

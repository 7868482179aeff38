/* script_lualib: cmsgpack and struct for the Lua engine (see script_lualib.c). */
#ifndef SARDINE_SCRIPT_LUALIB_H
#define SARDINE_SCRIPT_LUALIB_H
#include <lua.h>

int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);
#endif

(function(){
var form=document.getElementById('editor');if(!form)return;
var root=document.getElementById('record'),box=document.getElementById('problems'),state=document.getElementById('state');
var kind=form.dataset.kind,key=form.dataset.key,csrf=form.dataset.csrf,timer=null,seq=0,dirty=false;
function each(list,f){Array.prototype.forEach.call(list,f);}
function kids(el){return Array.prototype.filter.call(el.querySelectorAll('[data-t]'),function(c){return c.parentElement.closest('[data-t]')===el;});}
function blank(v){return v===null||v===''||v===false||(Array.isArray(v)&&!v.length);}
function read(el,path){el.dataset.path=path;var t=el.dataset.t,v=el.value;
if(t==='obj'||t==='opt'){var o={},any=false;kids(el).forEach(function(c){var k=c.dataset.k,x=read(c,path?path+'.'+k:k);o[k]=x;if(!blank(x))any=true;});return t==='opt'&&!any?null:o;}
if(t==='rows')return kids(el).map(function(c,i){return read(c,path+'['+i+']');});
if(t==='ostr')return v.trim()?v:null;
if(t==='int'||t==='oint'||t==='num')return v===''?null:Number(v);
if(t==='bool')return el.checked;
if(t==='lines')return v.split('\n').map(function(s){return s.trim();}).filter(Boolean);
if(t==='ints')return v.split(/[\s,，、]+/).filter(Boolean).map(Number);
if(t==='when'||t==='owhen')return v?(v.length===16?v+':00':v):null;
if(t==='file')return v?JSON.parse(v):null;
return v;}
function record(){return read(root,'');}
function showFile(w,f){var link=w.querySelector('.file-link'),img=link.querySelector('img'),pic=!!f&&f.media_type.indexOf('image/')===0;
link.hidden=!f;w.querySelector('.file-name.none').hidden=!!f;img.hidden=!pic;if(pic)img.src='/studio/files/'+f.sha256;else img.removeAttribute('src');
if(f){link.href='/studio/files/'+f.sha256;link.querySelector('.file-name').textContent=f.name+'（'+Math.ceil(f.size/1024)+' KB）';}}
function headers(type){return {'content-type':type||'application/json','x-csrf-token':csrf};}
function answer(r){return r.json().then(function(j){return [r.status,j];},function(){return [r.status,{}];});}
function show(problems){
each(form.querySelectorAll('.problem'),function(p){p.textContent='';});
each(form.querySelectorAll('.bad'),function(n){n.classList.remove('bad');});
box.textContent='';
problems.forEach(function(p){var path=p.field||'',node=null,slot=null,label='';
while(path&&!p.record){node=root.querySelector('[data-path="'+CSS.escape(path)+'"]');if(node)break;path=path.replace(/(\[\d+\]|\.[^.\[]+|^[^.\[]+)$/,'');}
if(node){var f=node.closest('.f');node.classList.add('bad');if(f){slot=f.querySelector(':scope > .problem');var l=f.querySelector('.l,legend');label=l?l.textContent:'';}}
if(slot)slot.textContent=(slot.textContent?slot.textContent+'；':'')+p.message;
var li=document.createElement('li');li.textContent=(p.record?p.record+' · ':'')+(label||p.field||'整条记录')+(p.field?'（'+p.field+'）':'')+'：'+p.message;box.appendChild(li);});}
function check(){var n=++seq;
fetch('/api/v1/studio/check/'+kind+(key?'':'?new=1'),{method:'POST',credentials:'same-origin',headers:headers(),body:JSON.stringify(record())}).then(answer).then(function(a){if(n!==seq)return;var ps=a[1].problems||[];
if(a[0]!==200){state.textContent='无法检查：'+(a[1].error||a[0]);return;}
show(ps);state.textContent=ps.length?'有 '+ps.length+' 处问题，改好后才能保存':'检查通过，可以保存';}).catch(function(){state.textContent='无法检查（网络问题）';});}
function later(){dirty=true;clearTimeout(timer);timer=setTimeout(check,400);}
form.addEventListener('input',function(e){var s=e.target.closest('.colour');if(s)s.querySelector('.swatch').style.background=e.target.value;later();});
form.addEventListener('change',function(e){var inp=e.target;if(inp.type!=='file'){later();return;}if(!inp.files.length)return;
var w=inp.closest('.file'),f=inp.files[0],st=w.querySelector('.file-state');st.textContent='正在上传…';
fetch('/api/v1/studio/files?name='+encodeURIComponent(f.name),{method:'POST',credentials:'same-origin',headers:headers(f.type||'application/octet-stream'),body:f}).then(answer).then(function(a){
if(a[0]===201||a[0]===200){w.querySelector('[data-t=file]').value=JSON.stringify(a[1]);showFile(w,a[1]);st.textContent='已上传';later();}
else st.textContent='上传失败：'+(a[1].error||a[0]);}).catch(function(){st.textContent='上传失败（网络问题）';});inp.value='';});
form.addEventListener('click',function(e){var b=e.target.closest('button[data-act]');if(!b)return;var a=b.dataset.act;
if(a==='add'){var bx=b.closest('.rows-box');bx.querySelector(':scope > .rows').appendChild(bx.querySelector(':scope > template').content.cloneNode(true));}
else if(a==='unfile'){var w=b.closest('.file');w.querySelector('[data-t=file]').value='';showFile(w,null);}
else{var row=b.closest('.row');if(a==='del')row.remove();else if(a==='up'&&row.previousElementSibling)row.parentNode.insertBefore(row,row.previousElementSibling);else if(a==='down'&&row.nextElementSibling)row.parentNode.insertBefore(row.nextElementSibling,row);}
later();});
document.getElementById('save').addEventListener('click',function(){var rec=record(),id=key||rec.id||'';clearTimeout(timer);state.textContent='正在保存…';
fetch('/api/v1/studio/draft/'+kind+'/'+encodeURIComponent(id)+(key?'':'?new=1'),{method:'PUT',credentials:'same-origin',headers:headers(),body:JSON.stringify(rec)}).then(answer).then(function(a){
if(a[0]===200){dirty=false;show([]);state.textContent='已保存到草稿';if(!key)location.href='/studio/edit/'+kind+'/'+encodeURIComponent(id);}
else{show((a[1].details&&a[1].details.problems)||[]);state.textContent='没有保存：'+(a[1].error||a[0]);}}).catch(function(){state.textContent='没有保存（网络问题）';});});
var del=document.getElementById('delete');if(del)del.addEventListener('submit',function(e){if(!confirm('在草稿中删除这条记录？审核通过并发布后才会从门牌上消失。'))e.preventDefault();});
window.addEventListener('beforeunload',function(e){if(dirty){e.preventDefault();e.returnValue='';}});
if(key)check();
})();
